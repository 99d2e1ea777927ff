using System.Net;
using System.Text;
using System.Text.Json;

namespace PoolAI.Tests.Gateway;

/// <summary>
/// Malformed requests against every endpoint kind: each gets a 4xx with problem details (naming the field where there
/// is one), never a 5xx, and the gateway serves a good request afterwards.
/// </summary>
[TestClass]
[DoNotParallelize]
public sealed class GatewayBadInputTests
{
    private static GatewayFixture _gateway = null!;
    private static string _key = null!;

    [ClassInitialize]
    public static async Task StartAsync(TestContext _)
    {
        _gateway = await GatewayFixture.StartAsync(permitsPerSecond: 1000, burst: 1000); // the suite is fast; 429 is tested elsewhere
        _key = await _gateway.KeyAsync("developer");
    }

    [ClassCleanup]
    public static async Task StopAsync() => await _gateway.DisposeAsync();

    /// <summary>A bad request: what is sent, the status expected, and the field the problem must name (null: any).</summary>
    public sealed record Case(string Method, string Path, string? Body, HttpStatusCode Status, string? Field = null, string ContentType = "application/json");

    private const string Chat = "v1/chat/completions";
    private const string Completions = "v1/completions";
    private const string Jobs = "api/jobs";

    private static readonly string Huge = "{\"prompt\":\"" + new string('a', 2 * 1024 * 1024) + "\"}";

    public static IEnumerable<Case> Cases() =>
    [
        // Unreadable bodies.
        new("POST", Jobs, "{", HttpStatusCode.BadRequest),
        new("POST", Jobs, "{\"prompt\":\"ROMEO:\",}", HttpStatusCode.BadRequest),
        new("POST", Jobs, "[1,2,3]", HttpStatusCode.BadRequest),
        new("POST", Jobs, "\"just a string\"", HttpStatusCode.BadRequest),
        new("POST", Jobs, "null", HttpStatusCode.BadRequest, "body"),
        new("POST", Jobs, "", HttpStatusCode.BadRequest),
        new("POST", Jobs, "{\"prompt\":\"ROMEO:\"", HttpStatusCode.BadRequest),
        new("POST", Jobs, "{'prompt':'ROMEO:'}", HttpStatusCode.BadRequest),
        new("POST", Jobs, "prompt=ROMEO", HttpStatusCode.UnsupportedMediaType, ContentType: "application/x-www-form-urlencoded"),
        new("POST", Jobs, "ROMEO:", HttpStatusCode.UnsupportedMediaType, ContentType: "text/plain"),
        new("POST", Jobs, Huge, HttpStatusCode.RequestEntityTooLarge),
        // Wrong types.
        new("POST", Jobs, "{\"prompt\":123}", HttpStatusCode.BadRequest, "prompt"),
        new("POST", Jobs, "{\"prompt\":\"ROMEO:\",\"max_tokens\":\"50\"}", HttpStatusCode.BadRequest, "max_tokens"),
        new("POST", Jobs, "{\"prompt\":\"ROMEO:\",\"max_tokens\":1.5}", HttpStatusCode.BadRequest, "max_tokens"),
        new("POST", Jobs, "{\"prompt\":\"ROMEO:\",\"temperature\":\"hot\"}", HttpStatusCode.BadRequest, "temperature"),
        new("POST", Jobs, "{\"prompt\":\"ROMEO:\",\"stop\":\"x\"}", HttpStatusCode.BadRequest, "stop"),
        new("POST", Jobs, "{\"prompt\":\"ROMEO:\",\"seed\":true}", HttpStatusCode.BadRequest, "seed"),
        new("POST", Jobs, "{\"prompt\":[\"ROMEO:\"]}", HttpStatusCode.BadRequest, "prompt"),
        new("POST", Jobs, "{\"prompt\":\"ROMEO:\",\"bogus\":1}", HttpStatusCode.BadRequest, "bogus"),
        // Out of range and missing.
        new("POST", Jobs, "{\"prompt\":\"ROMEO:\",\"max_tokens\":0}", HttpStatusCode.BadRequest, "max_tokens"),
        new("POST", Jobs, "{\"prompt\":\"ROMEO:\",\"max_tokens\":5000}", HttpStatusCode.BadRequest, "max_tokens"),
        new("POST", Jobs, "{\"prompt\":\"ROMEO:\",\"max_tokens\":99999999999}", HttpStatusCode.BadRequest, "max_tokens"),
        new("POST", Jobs, "{\"prompt\":\"ROMEO:\",\"temperature\":-1}", HttpStatusCode.BadRequest, "temperature"),
        new("POST", Jobs, "{\"prompt\":\"ROMEO:\",\"top_p\":0}", HttpStatusCode.BadRequest, "top_p"),
        new("POST", Jobs, "{\"prompt\":\"ROMEO:\",\"top_p\":1.5}", HttpStatusCode.BadRequest, "top_p"),
        new("POST", Jobs, "{\"prompt\":\"ROMEO:\",\"top_k\":-1}", HttpStatusCode.BadRequest, "top_k"),
        new("POST", Jobs, "{\"prompt\":\"ROMEO:\",\"priority\":11}", HttpStatusCode.BadRequest, "priority"),
        new("POST", Jobs, "{\"prompt\":\"ROMEO:\",\"priority\":-11}", HttpStatusCode.BadRequest, "priority"),
        new("POST", Jobs, "{\"max_tokens\":10}", HttpStatusCode.BadRequest, "prompt"),
        new("POST", Jobs, "{\"prompt\":\"\"}", HttpStatusCode.BadRequest, "prompt"),
        new("POST", Jobs, "{\"prompt\":\"café\"}", HttpStatusCode.BadRequest, "prompt"),
        new("POST", Jobs, "{\"prompt\":\"ROMEO:\",\"model\":\"no-such-model\"}", HttpStatusCode.BadRequest, "model"),
        new("POST", Jobs, "{\"prompt\":\"ROMEO:\",\"ttl_seconds\":4294968}", HttpStatusCode.BadRequest, "ttl_seconds"),
        new("POST", Jobs, "{\"prompt\":\"ROMEO:\",\"ttl_seconds\":0}", HttpStatusCode.BadRequest, "ttl_seconds"),
        new("POST", Jobs, "{\"prompt\":\"ROMEO:\",\"stop\":[\"" + new string('x', 300) + "\"]}", HttpStatusCode.BadRequest, "stop"),
        new("POST", Jobs, "{\"prompt\":\"ROMEO:\",\"webhook_url\":\"ftp://x\"}", HttpStatusCode.BadRequest, "webhook_url"),
        new("POST", Jobs, "{\"prompt\":\"ROMEO:\",\"requirements\":{\"device\":\"tpu\"}}", HttpStatusCode.BadRequest, "requirements.device"),
        new("POST", Jobs, "{\"prompt\":\"ROMEO:\",\"requirements\":{\"min_memory_mb\":-1}}", HttpStatusCode.BadRequest, "requirements.min_memory_mb"),
        new("POST", Jobs, "{\"prompt\":\"ROMEO:\",\"requirements\":{\"device\":\"cpu\",\"min_gpu_memory_mb\":1024}}", HttpStatusCode.BadRequest, "requirements.min_gpu_memory_mb"),
        new("POST", Jobs, "{\"kind\":\"System\",\"model\":\"format-disk\"}", HttpStatusCode.BadRequest, "model"),
        new("POST", Jobs, "{\"prompt\":\"ROMEO:\",\"kind\":\"Poetry\"}", HttpStatusCode.BadRequest, "kind"),
        new("GET", $"{Jobs}?requester=%20", null, HttpStatusCode.BadRequest, "requester"),
        new("GET", $"{Jobs}?limit=0", null, HttpStatusCode.BadRequest, "limit"),
        new("GET", $"{Jobs}?status=sleeping", null, HttpStatusCode.BadRequest, "status"),
        new("PUT", $"{Jobs}/{Guid.NewGuid()}/priority", "{\"priority\":\"x\"}", HttpStatusCode.BadRequest, "priority"),
        new("GET", "api/rewards/%20", null, HttpStatusCode.BadRequest, "worker"),
        // Unknown jobs and bad ids.
        new("GET", $"{Jobs}/{Guid.NewGuid()}", null, HttpStatusCode.NotFound),
        new("POST", $"{Jobs}/{Guid.NewGuid()}/cancel", null, HttpStatusCode.NotFound),
        new("GET", $"{Jobs}/not-a-guid", null, HttpStatusCode.NotFound),
        new("GET", "api/no-such-endpoint", null, HttpStatusCode.NotFound),
        new("DELETE", $"{Jobs}/{Guid.NewGuid()}", null, HttpStatusCode.MethodNotAllowed),
        // Chat completions.
        new("POST", Chat, "{\"model\":\"shakespeare-char\"}", HttpStatusCode.BadRequest, "messages"),
        new("POST", Chat, "{\"model\":\"shakespeare-char\",\"messages\":[]}", HttpStatusCode.BadRequest, "messages"),
        new("POST", Chat, "{\"model\":\"shakespeare-char\",\"messages\":[{\"role\":\"wizard\",\"content\":\"hi\"}]}", HttpStatusCode.BadRequest, "messages[0].role"),
        new("POST", Chat, "{\"model\":\"shakespeare-char\",\"messages\":[{\"role\":\"user\",\"content\":42}]}", HttpStatusCode.BadRequest, "messages[0].content"),
        new("POST", Chat, "{\"model\":\"shakespeare-char\",\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"image_url\",\"image_url\":{}}]}]}", HttpStatusCode.BadRequest, "messages[0].content"),
        new("POST", Chat, "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}", HttpStatusCode.BadRequest, "model"),
        new("POST", Chat, "{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}", HttpStatusCode.NotFound),
        new("POST", Chat, "{\"model\":\"shakespeare-char\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"n\":2}", HttpStatusCode.BadRequest, "n"),
        new("POST", Chat, "{\"model\":\"shakespeare-char\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_tokens\":0}", HttpStatusCode.BadRequest, "max_tokens"),
        new("POST", Chat, "{\"model\":\"shakespeare-char\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_tokens\":5,\"max_completion_tokens\":5}", HttpStatusCode.BadRequest, "max_tokens"),
        new("POST", Chat, "{\"model\":\"shakespeare-char\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"stop\":7}", HttpStatusCode.BadRequest, "stop"),
        new("POST", Chat, "{\"model\":\"shakespeare-char\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"stop\":[\"a\",\"b\",\"c\",\"d\",\"e\"]}", HttpStatusCode.BadRequest, "stop"),
        new("POST", Chat, "{\"model\":\"shakespeare-char\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"frequency_penalty\":1}", HttpStatusCode.BadRequest, "frequency_penalty"),
        new("POST", Chat, "{\"model\":\"shakespeare-char\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"temperature\":\"warm\"}", HttpStatusCode.BadRequest, "temperature"),
        new("POST", Chat, "{\"model\":\"shakespeare-char\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"tools\":[]}", HttpStatusCode.BadRequest, "tools"),
        new("POST", Chat, "{\"model\":\"shakespeare-char\",\"messages\":[{\"role\":\"user\",\"content\":\"ñ\"}]}", HttpStatusCode.BadRequest, "prompt"),
        new("POST", Chat, "{\"model\":\"shakespeare-char\",\"messages\":[null]}", HttpStatusCode.BadRequest),
        new("POST", Chat, "not json at all", HttpStatusCode.BadRequest),
        // Completions.
        new("POST", Completions, "{\"model\":\"shakespeare-char\"}", HttpStatusCode.BadRequest, "prompt"),
        new("POST", Completions, "{\"model\":\"shakespeare-char\",\"prompt\":5}", HttpStatusCode.BadRequest, "prompt"),
        new("POST", Completions, "{\"model\":\"shakespeare-char\",\"prompt\":[\"a\",\"b\"]}", HttpStatusCode.BadRequest, "prompt"),
        new("POST", Completions, "{\"model\":\"shakespeare-char\",\"prompt\":\"ROMEO:\",\"seed\":\"7\"}", HttpStatusCode.BadRequest, "seed"),
        new("POST", Completions, "{\"model\":\"shakespeare-char\",\"prompt\":\"ROMEO:\",\"top_p\":2}", HttpStatusCode.BadRequest, "top_p"),
        new("POST", Completions, "{\"model\":\"shakespeare-char\",\"prompt\":\"ROMEO:\",\"presence_penalty\":0.5}", HttpStatusCode.BadRequest, "presence_penalty"),
        new("POST", Completions, "{\"model\":\"nope\",\"prompt\":\"ROMEO:\"}", HttpStatusCode.NotFound),
        // Images: no image model yet.
        new("POST", "v1/images/generations", "{\"model\":\"dall-e-3\",\"prompt\":\"a cat\"}", HttpStatusCode.NotFound),
        new("POST", "v1/images/generations", "{\"prompt\":\"a cat\",\"size\":12}", HttpStatusCode.BadRequest, "size"),
        // Token endpoint.
        new("POST", "api/auth/token", "{}", HttpStatusCode.BadRequest, "apiKey"),
        new("POST", "api/auth/token", "{\"apiKey\":\"hunter2\"}", HttpStatusCode.BadRequest, "apiKey"),
        new("POST", "api/auth/token", "{\"apiKey\":\"pai_0123456789ab_unknown\"}", HttpStatusCode.Unauthorized),
        new("POST", "api/auth/token", "{\"apiKey\":42}", HttpStatusCode.BadRequest, "apiKey"),
    ];

    [TestMethod]
    public async Task EveryMalformedRequestIsA4xxProblemNamingTheFieldAndNoneIsA5xx()
    {
        var cases = Cases().ToList();
        Assert.IsTrue(cases.Count >= 50, $"{cases.Count} cases");
        using var http = _gateway.Http(_key);
        var failures = new List<string>();
        foreach (var c in cases)
        {
            using var request = new HttpRequestMessage(new HttpMethod(c.Method), c.Path);
            if (c.Body is not null)
                request.Content = new StringContent(c.Body, Encoding.UTF8, c.ContentType);
            using var response = await http.SendAsync(request);
            var body = await response.Content.ReadAsStringAsync();
            var label = $"{c.Method} {c.Path} {Shorten(c.Body)}";
            if ((int)response.StatusCode >= 500)
                failures.Add($"{label}: {(int)response.StatusCode} (5xx) {Shorten(body)}");
            else if (response.StatusCode != c.Status)
                failures.Add($"{label}: {(int)response.StatusCode}, expected {(int)c.Status}: {Shorten(body)}");
            else if (response.Content.Headers.ContentType?.MediaType != "application/problem+json")
                failures.Add($"{label}: content type {response.Content.Headers.ContentType?.MediaType}, not problem details");
            else if (c.Field is not null && !NamesField(body, c.Field))
                failures.Add($"{label}: the problem does not name '{c.Field}': {Shorten(body)}");
        }

        Assert.AreEqual(0, failures.Count, $"{failures.Count} of {cases.Count}:\n" + string.Join("\n", failures));
        using var good = await http.GetAsync("v1/models");
        Assert.AreEqual(HttpStatusCode.OK, good.StatusCode, "the gateway stopped serving");
    }

    [TestMethod]
    [DataRow("api/auth/token", "{\"apiKey\":\"pai_bad\"}", "apiKey", "must be a PoolAI API key (pai_…)")]
    [DataRow("api/auth/token", "{}", "apiKey", "is required")]
    [DataRow("api/jobs", "{\"prompt\":\"ROMEO:\",\"max_tokens\":99999999999}", "max_tokens", "must be between 1 and 4096, was 99999999999")]
    [DataRow("api/jobs", "{\"prompt\":\"ROMEO:\",\"max_tokens\":\"many\"}", "max_tokens", "must be an integer between 1 and 4096, was \"many\"")]
    [DataRow("api/jobs", "{\"prompt\":\"ROMEO:\",\"max_tokens\":1.5}", "max_tokens", "must be an integer between 1 and 4096, was 1.5")]
    [DataRow("api/jobs", "{\"prompt\":\"ROMEO:\",\"temperature\":1e308}", "temperature", "must be between 0 and 10, was 1e308")]
    [DataRow("api/jobs", "{\"prompt\":\"ROMEO:\",\"temperature\":-1e400}", "temperature", "must be between 0 and 10, was -1e400")]
    [DataRow("api/jobs", "{\"prompt\":\"ROMEO:\",\"temperature\":\"hot\"}", "temperature", "must be a number between 0 and 10, was \"hot\"")]
    [DataRow("api/jobs", "{\"prompt\":\"ROMEO:\",\"top_p\":1e308}", "top_p", "must be in (0, 1], was 1e308")]
    [DataRow("api/jobs", "{\"prompt\":\"ROMEO:\",\"top_k\":99999999999}", "top_k", "must be between 0 (off) and 2147483647, was 99999999999")]
    [DataRow("api/jobs", "{\"prompt\":\"ROMEO:\",\"seed\":1e30}", "seed", "must be between -9223372036854775808 and 9223372036854775807, was 1e30")]
    [DataRow("api/jobs", "{\"prompt\":\"ROMEO:\",\"priority\":99999999999}", "priority", "must be between -10 and 10, was 99999999999")]
    [DataRow("api/jobs", "{\"prompt\":\"ROMEO:\",\"ttl_seconds\":1e10}", "ttl_seconds", "must be between 1 and 2592000 (30 days), was 1e10")]
    [DataRow("api/jobs", "{\"prompt\":\"ROMEO:\",\"requirements\":{\"min_memory_mb\":1e30}}", "requirements.min_memory_mb", "must be between 0 and 16777216, was 1e30")]
    [DataRow("api/jobs", "{\"prompt\":\"ROMEO:\",\"requirements\":{\"min_gpu_memory_mb\":-99999999999999999999}}", "requirements.min_gpu_memory_mb", "must be between 0 and 16777216, was -99999999999999999999")]
    [DataRow("v1/chat/completions", "{\"model\":\"shakespeare-char\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"temperature\":1e308}", "temperature", "must be between 0 and 10, was 1e308")]
    [DataRow("v1/chat/completions", "{\"model\":\"shakespeare-char\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_completion_tokens\":99999999999}", "max_completion_tokens", "must be between 1 and 4096, was 99999999999")]
    [DataRow("v1/chat/completions", "{\"model\":\"shakespeare-char\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_tokens\":99999999999}", "max_tokens", "must be between 1 and 4096, was 99999999999")]
    [DataRow("v1/chat/completions", "{\"model\":\"shakespeare-char\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"frequency_penalty\":1e308}", "frequency_penalty", "only 0 is supported, was 1e308")]
    [DataRow("v1/completions", "{\"model\":\"shakespeare-char\",\"prompt\":\"ROMEO:\",\"n\":99999999999}", "n", "only 1 is supported, was 99999999999")]
    [DataRow("v1/completions", "{\"model\":\"shakespeare-char\",\"prompt\":\"ROMEO:\",\"presence_penalty\":-1e308}", "presence_penalty", "only 0 is supported, was -1e308")]
    [DataRow("v1/completions", "{\"model\":\"shakespeare-char\",\"prompt\":\"ROMEO:\",\"top_p\":1e-400}", "top_p", "must be in (0, 1], was 1e-400")]
    [DataRow("v1/completions", "{\"model\":\"shakespeare-char\",\"prompt\":\"ROMEO:\",\"seed\":99999999999999999999}", "seed", "must be between -9223372036854775808 and 9223372036854775807, was 99999999999999999999")]
    public async Task AProblemSaysTheFieldAndTheRuleInItsDetailAndInOpenAisErrorObject(string path, string body, string field, string rule)
    {
        using var http = _gateway.Http(_key);
        using var response = await http.PostAsync(path, new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.AreEqual(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.AreEqual($"{field}: {rule}", problem.GetProperty("detail").GetString());
        Assert.AreEqual(field, problem.GetProperty("error").GetProperty("param").GetString());
        Assert.AreEqual($"{field}: {rule}", problem.GetProperty("error").GetProperty("message").GetString());
    }

    [TestMethod]
    [DataRow("v1/chat/completions", "{\"model\":\"shakespeare-char\",\"messages\":[{\"role\":\"user\",\"content\":\"RO\\ud800MEO\"}]}", "messages[0].content", "\\ud800")]
    [DataRow("v1/chat/completions", "{\"model\":\"shakespeare-char\",\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"\\udc00\"}]}]}", "messages[0].content[0].text", "\\udc00")]
    [DataRow("v1/chat/completions", "{\"model\":\"shakespeare-char\",\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"te\\uDBFFxt\",\"text\":\"hi\"}]}]}", "messages[0].content[0].type", "\\uDBFF")]
    [DataRow("v1/chat/completions", "{\"model\":\"shakespeare-char\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"stop\":\"\\ud83d\\ud83d\\ude00\"}", "stop", "\\ud83d")]
    [DataRow("v1/completions", "{\"model\":\"shakespeare-char\",\"prompt\":\"\\ud800\"}", "prompt", "\\ud800")]
    [DataRow("v1/completions", "{\"model\":\"shakespeare-char\",\"prompt\":[\"\\ude00\\ud83d\"]}", "prompt[0]", "\\ude00")]
    [DataRow("v1/completions", "{\"model\":\"shakespeare-char\",\"prompt\":\"ROMEO:\",\"stop\":[\"a\",\"b\\ud800\"]}", "stop[1]", "\\ud800")]
    [DataRow("api/jobs", "{\"prompt\":\"\\ud800\"}", "prompt", "\\ud800")]
    [DataRow("api/jobs", "{\"prompt\":\"ROMEO:\",\"stop\":[\"\\udfff\"]}", "stop[0]", "\\udfff")]
    public async Task AStringHoldingALoneSurrogateIsA400NamingItsField(string path, string body, string field, string escape)
    {
        using var http = _gateway.Http(_key);
        using var response = await http.PostAsync(path, new StringContent(body, Encoding.UTF8, "application/json"));
        var text = await response.Content.ReadAsStringAsync();
        Assert.AreEqual(HttpStatusCode.BadRequest, response.StatusCode, text);
        var problem = JsonDocument.Parse(text).RootElement;
        var expected = $"{field}: must be valid Unicode text: {escape} is half of a UTF-16 surrogate pair without the other half";
        Assert.AreEqual(expected, problem.GetProperty("detail").GetString());
        Assert.AreEqual(field, problem.GetProperty("error").GetProperty("param").GetString());
        Assert.AreEqual(expected, problem.GetProperty("error").GetProperty("message").GetString());
    }

    [TestMethod]
    [DataRow("v1/chat/completions", "{\"model\":\"shakespeare-char\",\"messages\":[{\"role\":\"user\",\"content\":\"", "\"}]}", 66)]
    [DataRow("v1/completions", "{\"model\":\"shakespeare-char\",\"prompt\":\"", "\"}", 38)]
    [DataRow("api/jobs", "{\"prompt\":\"RO", "\"}", 13)]
    public async Task ABodyThatIsNotUtf8IsA400NamingTheBody(string path, string start, string end, int offset)
    {
        // Latin-1 "ÿþ" where UTF-8 was due: JSON that is well formed but not UTF-8.
        var body = Encoding.UTF8.GetBytes(start).Concat(new byte[] { 0xFF, 0xFE }).Concat(Encoding.UTF8.GetBytes(end)).ToArray();
        Assert.AreEqual(0xFF, body[offset]);
        using var http = _gateway.Http(_key);
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        using var response = await http.PostAsync(path, content);
        var text = await response.Content.ReadAsStringAsync();
        Assert.AreEqual(HttpStatusCode.BadRequest, response.StatusCode, text);
        var problem = JsonDocument.Parse(text).RootElement;
        var expected = $"body: must be JSON encoded as UTF-8: the byte 0xFF at offset {offset} is not UTF-8";
        Assert.AreEqual(expected, problem.GetProperty("detail").GetString());
        Assert.AreEqual("body", problem.GetProperty("error").GetProperty("param").GetString());
    }

    private static bool NamesField(string body, string field)
    {
        var problem = JsonDocument.Parse(body).RootElement;
        return problem.TryGetProperty("errors", out var errors) && errors.ValueKind == JsonValueKind.Object && errors.TryGetProperty(field, out _);
    }

    private static string Shorten(string? text) => text is null ? "" : text.Length > 160 ? text[..160] + "…" : text;
}
