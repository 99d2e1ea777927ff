using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace PoolAI.Tests.Gateway;

/// <summary>The result cache through the HTTP gateway (a gateway of its own, with the cache on).</summary>
[TestClass]
[DoNotParallelize]
public sealed class GatewayResultCacheTests
{
    private static GatewayFixture _gateway = null!;

    [ClassInitialize]
    public static async Task StartAsync(TestContext _) => _gateway = await GatewayFixture.StartAsync(resultCache: true);

    [ClassCleanup]
    public static async Task StopAsync() => await _gateway.DisposeAsync();

    private static async Task<JsonElement> WaitSucceededAsync(HttpClient http, string id)
    {
        var job = await GatewayFixture.WaitFinalAsync(http, id);
        Assert.AreEqual("Succeeded", job.GetProperty("status").GetString(), job.GetProperty("status_message").ToString());
        return job;
    }

    [TestMethod]
    public async Task TheJobApiServesARepeatFromTheCacheUnlessItSaysCacheFalse()
    {
        using var http = _gateway.Http(await _gateway.KeyAsync("developer"));
        var request = new { prompt = "ROMEO:", max_tokens = 12, seed = 5150 };
        var first = await WaitSucceededAsync(http, (await GatewayFixture.SubmitJobAsync(http, request)).GetProperty("id").GetString()!);

        var repeat = await GatewayFixture.SubmitJobAsync(http, request);
        var optedOut = await GatewayFixture.SubmitJobAsync(http, new { prompt = "ROMEO:", max_tokens = 12, seed = 5150, cache = false });

        Assert.AreEqual("Succeeded", repeat.GetProperty("status").GetString());
        Assert.AreEqual(0, repeat.GetProperty("attempts").GetArrayLength());
        Assert.IsTrue(repeat.GetProperty("result").GetProperty("cached").GetBoolean());
        Assert.AreEqual(first.GetProperty("id").GetString(), repeat.GetProperty("result").GetProperty("cached_from").GetString());
        Assert.AreEqual(first.GetProperty("result").GetProperty("output").GetProperty("text").GetString(), repeat.GetProperty("result").GetProperty("output").GetProperty("text").GetString());
        Assert.IsFalse(first.GetProperty("result").GetProperty("cached").GetBoolean());

        Assert.IsTrue(optedOut.GetProperty("spec").GetProperty("no_cache").GetBoolean());
        var ran = await WaitSucceededAsync(http, optedOut.GetProperty("id").GetString()!);
        Assert.AreEqual(1, ran.GetProperty("attempts").GetArrayLength());
        Assert.IsFalse(ran.GetProperty("result").GetProperty("cached").GetBoolean());
    }

    [TestMethod]
    public async Task TheOpenAiEndpointAnswersARepeatFromTheCacheAndAcceptsCacheFalse()
    {
        using var http = _gateway.Http(await _gateway.KeyAsync("developer"));
        var body = new { model = TestModels.Shakespeare, prompt = "JULIET:", max_tokens = 15, seed = 6160 };
        var texts = new List<string>();
        foreach (var request in new object[] { body, body, new { model = TestModels.Shakespeare, prompt = "JULIET:", max_tokens = 15, seed = 6160, cache = false } })
        {
            using var response = await http.PostAsJsonAsync("v1/completions", request);
            Assert.AreEqual(HttpStatusCode.OK, response.StatusCode, await response.Content.ReadAsStringAsync());
            texts.Add((await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("choices")[0].GetProperty("text").GetString()!);
        }

        Assert.AreEqual(1, texts.Distinct().Count());
        var jobs = (await http.GetFromJsonAsync<JsonElement>("api/jobs?limit=3")).GetProperty("items").EnumerateArray()
            .Select(j => http.GetFromJsonAsync<JsonElement>($"api/jobs/{j.GetProperty("id").GetString()}"));
        var views = (await Task.WhenAll(jobs)).Reverse().ToList(); // oldest first
        CollectionAssert.AreEqual(new[] { false, true, false }, views.Select(v => v.GetProperty("result").GetProperty("cached").GetBoolean()).ToArray());
    }
}
