using System.Net.Http.Json;
using System.Net.Http.Headers;
using Microsoft.Extensions.Configuration;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using PoolAI.Benchmarks.Failover;
using PoolAI.Client.Sdk;

namespace PoolAI.Tests.Gateway;

/// <summary>
/// One real gateway process (the embedded all-in-one pool) for a test class, with a signing key the tests know (so
/// they can mint good and bad tokens), a rate limit (default 50 requests/s in bursts of 60), and API keys of every role made
/// through the SDK against its Orleans gateway.
/// </summary>
public sealed class GatewayFixture : IAsyncDisposable
{
    /// <summary>The signing key the gateway is started with.</summary>
    public static readonly byte[] SigningKey = Enumerable.Range(1, 32).Select(i => (byte)(i * 7)).ToArray();

    private readonly PoolProcess _process;
    private readonly PoolConnection _connection;

    private GatewayFixture(PoolProcess process, PoolConnection connection, Uri baseAddress)
    {
        _process = process;
        _connection = connection;
        BaseAddress = baseAddress;
    }

    /// <summary>http://127.0.0.1:PORT/</summary>
    public Uri BaseAddress { get; }

    /// <summary>The pool, through the SDK.</summary>
    public PoolClient Pool => _connection.Client;

    /// <summary>The gateway's log so far.</summary>
    public string Log => _process.Log;

    /// <summary>
    /// Starts the gateway (rate limit <paramref name="permitsPerSecond"/>/s, bursts of <paramref name="burst"/>; the
    /// result cache on only with <paramref name="resultCache"/>; its embedded silo declaring <paramref name="slots"/>
    /// generations at once, 0 for the configured default of one batch) and waits until it serves.
    /// </summary>
    public static async Task<GatewayFixture> StartAsync(int permitsPerSecond = 50, int burst = 60, bool resultCache = false, int slots = 0)
    {
        var httpPort = PoolProcess.FreePort();
        var gatewayPort = PoolProcess.FreePort();
        var process = PoolProcess.Start("PoolAI.Gateway.dll", httpPort, gatewayPort, new Dictionary<string, string>
        {
            ["PoolAI__Miner__Slots"] = slots.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["PoolAI__Gateway__Auth__SigningKey"] = Convert.ToBase64String(SigningKey),
            ["PoolAI__Gateway__RateLimit__PermitsPerSecond"] = permitsPerSecond.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["PoolAI__Gateway__RateLimit__Burst"] = burst.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["PoolAI__Rewards__VerificationShare"] = "0",
            // The gateway tests reuse prompts and seeds and look at attempts; the cache is tested on its own.
            ["PoolAI__Jobs__ResultCacheTimeToLive"] = resultCache ? "01:00:00" : "00:00:00",
        });
        try
        {
            await process.WaitForLogAsync("Application started", TimeSpan.FromMinutes(2));
            var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["PoolAI:Client:Gateways"] = $"127.0.0.1:{gatewayPort}",
            }).Build();
            var connection = await PoolConnection.OpenAsync(configuration);
            return new GatewayFixture(process, connection, new Uri($"http://127.0.0.1:{httpPort}/"));
        }
        catch
        {
            process.Dispose();
            throw;
        }
    }

    /// <summary>A new API key with <paramref name="role"/>.</summary>
    public async Task<string> KeyAsync(string role) => (await Pool.CreateApiKeyAsync(role, $"test-{role}")).Key;

    /// <summary>An HTTP client for the gateway, sending <paramref name="bearer"/> if given.</summary>
    public HttpClient Http(string? bearer = null)
    {
        var http = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromMinutes(2) };
        if (bearer is not null)
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        return http;
    }

    /// <summary>A JWT signed with <paramref name="key"/> (default: the gateway's), with the given claims and times.</summary>
    public static string Token(string? role = "developer", string issuer = "poolai", string audience = "poolai-api", DateTime? notBefore = null, DateTime? expires = null, byte[]? key = null)
    {
        var claims = new Dictionary<string, object> { ["sub"] = "test-token" };
        if (role is not null)
            claims["role"] = role;
        var now = DateTime.UtcNow;
        return new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = issuer,
            Audience = audience,
            NotBefore = notBefore ?? now.AddMinutes(-1),
            IssuedAt = (notBefore ?? now.AddMinutes(-1)),
            Expires = expires ?? now.AddMinutes(10),
            Claims = claims,
            SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(key ?? SigningKey), SecurityAlgorithms.HmacSha256),
        });
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await _connection.DisposeAsync();
        _process.Dispose();
    }

    /// <summary>Submits a job through <c>POST api/jobs</c>, asserts 202 Accepted and returns the job.</summary>
    public static async Task<System.Text.Json.JsonElement> SubmitJobAsync(HttpClient http, object body)
    {
        using var response = await http.PostAsJsonAsync("api/jobs", body);
        Assert.AreEqual(System.Net.HttpStatusCode.Accepted, response.StatusCode, await response.Content.ReadAsStringAsync());
        return await response.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>();
    }

    /// <summary>Polls <c>GET api/jobs/{id}</c> every 100 ms until the job is final (at most 2 minutes) and returns it.</summary>
    public static async Task<System.Text.Json.JsonElement> WaitFinalAsync(HttpClient http, string id)
    {
        var deadline = DateTime.UtcNow.AddMinutes(2);
        while (true)
        {
            var job = await http.GetFromJsonAsync<System.Text.Json.JsonElement>($"api/jobs/{id}");
            if (job.GetProperty("status").GetString() is "Succeeded" or "Failed" or "Cancelled" or "Expired")
                return job;
            Assert.IsTrue(DateTime.UtcNow < deadline, $"job {id} stayed {job.GetProperty("status")}: {job.GetProperty("status_message")}");
            await Task.Delay(100);
        }
    }
}
