using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace PoolAI.Tests.Gateway;

/// <summary>Who may call what: JWTs (lifetime, signature, issuer, audience, role), API keys (revocation), 401 versus 403, rate limits.</summary>
[TestClass]
[DoNotParallelize]
public sealed class GatewaySecurityTests
{
    private static GatewayFixture _gateway = null!;

    [ClassInitialize]
    public static async Task StartAsync(TestContext _) => _gateway = await GatewayFixture.StartAsync();

    [ClassCleanup]
    public static async Task StopAsync() => await _gateway.DisposeAsync();

    private static async Task<HttpStatusCode> StatusAsync(string? bearer, string path = "v1/models")
    {
        using var http = _gateway.Http(bearer);
        using var response = await http.GetAsync(path);
        return response.StatusCode;
    }

    [TestMethod]
    public async Task MissingOrMalformedCredentialsAre401()
    {
        Assert.AreEqual(HttpStatusCode.Unauthorized, await StatusAsync(null));
        Assert.AreEqual(HttpStatusCode.Unauthorized, await StatusAsync(null, $"api/jobs/{Guid.NewGuid()}"));
        Assert.AreEqual(HttpStatusCode.Unauthorized, await StatusAsync("not-a-token"));
        Assert.AreEqual(HttpStatusCode.Unauthorized, await StatusAsync("pai_0123456789ab_forged"));
        Assert.AreEqual(HttpStatusCode.OK, await StatusAsync(GatewayFixture.Token()));
    }

    [TestMethod]
    public async Task TokensOutsideTheirLifetimeAre401()
    {
        var now = DateTime.UtcNow;
        Assert.AreEqual(HttpStatusCode.Unauthorized, await StatusAsync(GatewayFixture.Token(notBefore: now.AddMinutes(-20), expires: now.AddMinutes(-1))), "expired");
        Assert.AreEqual(HttpStatusCode.Unauthorized, await StatusAsync(GatewayFixture.Token(notBefore: now.AddMinutes(2), expires: now.AddMinutes(20))), "not yet valid");
    }

    [TestMethod]
    public async Task TokensWithAWrongSignatureIssuerOrAudienceAre401()
    {
        Assert.AreEqual(HttpStatusCode.Unauthorized, await StatusAsync(GatewayFixture.Token(key: Enumerable.Repeat((byte)1, 32).ToArray())), "signature");
        Assert.AreEqual(HttpStatusCode.Unauthorized, await StatusAsync(GatewayFixture.Token(audience: "someone-else")), "audience");
        Assert.AreEqual(HttpStatusCode.Unauthorized, await StatusAsync(GatewayFixture.Token(issuer: "someone-else")), "issuer");
    }

    [TestMethod]
    public async Task AMissingOrWrongRoleIs403()
    {
        Assert.AreEqual(HttpStatusCode.Forbidden, await StatusAsync(GatewayFixture.Token(role: null)), "no role");
        Assert.AreEqual(HttpStatusCode.Forbidden, await StatusAsync(GatewayFixture.Token(role: "miner")), "miner on a developer endpoint");
        Assert.AreEqual(HttpStatusCode.Forbidden, await StatusAsync(await _gateway.KeyAsync("miner")), "miner key");
        Assert.AreEqual(HttpStatusCode.Forbidden, await StatusAsync(GatewayFixture.Token(role: "developer"), "dashboard"), "developer on the dashboard");
        Assert.AreNotEqual(HttpStatusCode.Forbidden, await StatusAsync(GatewayFixture.Token(role: "admin"), "dashboard"));
        Assert.AreEqual(HttpStatusCode.OK, await StatusAsync(GatewayFixture.Token(role: "admin")), "admin may do what developers do");
    }

    [TestMethod]
    public async Task AnAdminSignsInToTheDashboardFromABrowserAndTheCookieOpensOnlyTheDashboard()
    {
        using var browser = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = false }) { BaseAddress = _gateway.BaseAddress };
        browser.DefaultRequestHeaders.Accept.ParseAdd("text/html");

        using (var page = await browser.GetAsync("dashboard/"))
        {
            Assert.AreEqual(HttpStatusCode.Redirect, page.StatusCode, "a browser without credentials is sent to sign in");
            Assert.AreEqual("/signin", page.Headers.Location?.OriginalString);
        }

        using (var form = await browser.GetAsync("signin"))
            StringAssert.Contains(await form.Content.ReadAsStringAsync(), "name=\"api_key\"");

        using (var developer = await browser.PostAsync("signin", new FormUrlEncodedContent(new Dictionary<string, string> { ["api_key"] = await _gateway.KeyAsync("developer") })))
        {
            Assert.AreEqual(HttpStatusCode.Forbidden, developer.StatusCode);
            Assert.IsFalse(developer.Headers.Contains("Set-Cookie"), "no session for a developer key");
            StringAssert.Contains(await developer.Content.ReadAsStringAsync(), "the dashboard is for admin keys; this key&#x27;s role is developer");
        }

        string cookie;
        using (var admin = await browser.PostAsync("signin", new FormUrlEncodedContent(new Dictionary<string, string> { ["api_key"] = await _gateway.KeyAsync("admin") })))
        {
            Assert.AreEqual(HttpStatusCode.SeeOther, admin.StatusCode);
            Assert.AreEqual("/dashboard/", admin.Headers.Location?.OriginalString);
            var setCookie = admin.Headers.GetValues("Set-Cookie").Single();
            StringAssert.StartsWith(setCookie, "poolai_dashboard=");
            StringAssert.Contains(setCookie, "path=/dashboard");
            StringAssert.Contains(setCookie, "httponly");
            StringAssert.Contains(setCookie, "samesite=strict");
            cookie = setCookie.Split(';')[0];
        }

        using (var dashboard = new HttpRequestMessage(HttpMethod.Get, "dashboard/"))
        {
            dashboard.Headers.Add("Cookie", cookie);
            using var response = await browser.SendAsync(dashboard);
            Assert.AreEqual(HttpStatusCode.OK, response.StatusCode, "the session opens the dashboard");
        }

        using (var api = new HttpRequestMessage(HttpMethod.Get, "api/admin/settings"))
        {
            api.Headers.Add("Cookie", cookie);
            using var response = await browser.SendAsync(api);
            Assert.AreEqual(HttpStatusCode.Unauthorized, response.StatusCode, "the API never acts on the cookie");
        }
    }

    [TestMethod]
    public async Task AnApiKeyWorksDirectlyAndForATokenUntilRevoked()
    {
        var (view, key) = await _gateway.Pool.CreateApiKeyAsync("developer", "revocation test");
        Assert.AreEqual(HttpStatusCode.OK, await StatusAsync(key));

        using var anonymous = _gateway.Http();
        using var issued = await anonymous.PostAsJsonAsync("api/auth/token", new Dictionary<string, string> { ["apiKey"] = key });
        Assert.AreEqual(HttpStatusCode.OK, issued.StatusCode);
        var token = await issued.Content.ReadFromJsonAsync<JsonElement>();
        Assert.AreEqual("Bearer", token.GetProperty("token_type").GetString());
        Assert.AreEqual(3600, token.GetProperty("expires_in").GetInt32());
        Assert.AreEqual(HttpStatusCode.OK, await StatusAsync(token.GetProperty("access_token").GetString()));

        await _gateway.Pool.RevokeApiKeyAsync(view.Id);
        Assert.AreEqual(HttpStatusCode.Unauthorized, await StatusAsync(key), "revoked key");
        Assert.AreEqual(HttpStatusCode.Unauthorized, await StatusAsync(token.GetProperty("access_token").GetString()), "token of a revoked key");
        using var refused = await anonymous.PostAsJsonAsync("api/auth/token", new Dictionary<string, string> { ["apiKey"] = key });
        Assert.AreEqual(HttpStatusCode.Unauthorized, refused.StatusCode, "token for a revoked key");
        Assert.IsTrue((await _gateway.Pool.ListApiKeysAsync()).Single(k => k.Id == view.Id).RevokedAt is not null);
    }

    [TestMethod]
    public async Task AKeyOverItsRateLimitGets429WithRetryAfter()
    {
        using var http = _gateway.Http(await _gateway.KeyAsync("developer"));
        var responses = await Task.WhenAll(Enumerable.Range(0, 150).Select(_ => http.GetAsync("v1/models")));
        var limited = responses.Where(r => r.StatusCode == HttpStatusCode.TooManyRequests).ToList();
        Assert.IsTrue(limited.Count > 0, "no request was limited");
        Assert.IsTrue(responses.Count(r => r.StatusCode == HttpStatusCode.OK) >= 60, "the burst was not allowed");
        Assert.IsTrue(int.Parse(limited[0].Headers.GetValues("Retry-After").Single(), System.Globalization.CultureInfo.InvariantCulture) >= 1);
        Assert.AreEqual("application/problem+json", limited[0].Content.Headers.ContentType?.MediaType);

        // Another key is not limited by the first one's use.
        using var other = _gateway.Http(await _gateway.KeyAsync("developer"));
        Assert.AreEqual(HttpStatusCode.OK, (await other.GetAsync("v1/models")).StatusCode);
        foreach (var response in responses)
            response.Dispose();
    }

    [TestMethod]
    public async Task TheOpenApiDocumentListsThePublicApiButNotTheDashboardOrTheSignInPage()
    {
        using var http = _gateway.Http();
        var paths = JsonDocument.Parse(await http.GetStringAsync("openapi/v1.json")).RootElement.GetProperty("paths")
            .EnumerateObject().Select(p => p.Name).ToList();
        CollectionAssert.Contains(paths, "/v1/chat/completions");
        CollectionAssert.Contains(paths, "/api/jobs");
        Assert.AreEqual("", string.Join(", ", paths.Where(p => p.StartsWith("/dashboard", StringComparison.Ordinal) || p.StartsWith("/signin", StringComparison.Ordinal))));
    }

    [TestMethod]
    public async Task TheOpenApiDocumentStatesTheTypeAndRangeOfTheNumbersInRequestBodies()
    {
        using var http = _gateway.Http();
        var schemas = JsonDocument.Parse(await http.GetStringAsync("openapi/v1.json")).RootElement.GetProperty("components").GetProperty("schemas");
        var job = schemas.GetProperty("GenerateRequest").GetProperty("properties");
        Assert.AreEqual("""{"type":["null","number"],"minimum":0,"maximum":10}""", Range(job.GetProperty("temperature")));
        Assert.AreEqual("""{"type":["null","number"],"exclusiveMinimum":0,"maximum":1}""", Range(job.GetProperty("top_p")));
        Assert.AreEqual("""{"type":["null","integer"],"minimum":1,"maximum":4096}""", Range(job.GetProperty("max_tokens")));
        Assert.AreEqual("""{"type":["null","integer"],"minimum":1,"maximum":2592000}""", Range(job.GetProperty("ttl_seconds")));
        // Types their converters write in their own form: a kind is a name, a task's parameters an object of values.
        Assert.AreEqual("string", schemas.GetProperty("JobKind").GetProperty("type").GetString());
        Assert.AreEqual("#/components/schemas/JobKind", job.GetProperty("kind").GetProperty("$ref").GetString());
        Assert.AreEqual("""["boolean","number","string"]""", JsonSerializer.Serialize(job.GetProperty("parameters").GetProperty("additionalProperties").GetProperty("type")));
        var chat = schemas.GetProperty("ChatCompletionRequest").GetProperty("properties");
        Assert.AreEqual("""{"type":["null","integer"],"minimum":1,"maximum":4096}""", Range(chat.GetProperty("max_completion_tokens")));
        Assert.AreEqual("""{"type":["null","integer"],"minimum":1,"maximum":1}""", Range(chat.GetProperty("n")));

        static string Range(JsonElement schema) => JsonSerializer.Serialize(new Dictionary<string, JsonElement?>
        {
            ["type"] = schema.GetProperty("type"),
            ["minimum"] = schema.TryGetProperty("minimum", out var min) ? min : null,
            ["exclusiveMinimum"] = schema.TryGetProperty("exclusiveMinimum", out var exclusive) ? exclusive : null,
            ["maximum"] = schema.GetProperty("maximum"),
        }.Where(p => p.Value is not null).ToDictionary());
    }

    [TestMethod]
    public async Task TheOpenApiDocumentAndItsReferencePageAreServed()
    {
        using var http = _gateway.Http();
        var document = await http.GetStringAsync("openapi/v1.json");
        foreach (var path in new[] { "/v1/chat/completions", "/v1/completions", "/api/jobs", "/api/jobs/{id}/events", "/api/admin/settings", "/api/libraries", "/api/auth/token" })
            StringAssert.Contains(document, $"\"{path}\"");
        using var reference = await http.GetAsync("scalar/");
        Assert.AreEqual(HttpStatusCode.OK, reference.StatusCode);
        StringAssert.Contains(await reference.Content.ReadAsStringAsync(), "<html", StringComparison.OrdinalIgnoreCase);
    }
}
