using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace PoolAI.Tests.Gateway;

/// <summary>The admin API: maintenance mode that stops new work and says why, worker pause/resume/ban, reward corrections, roles.</summary>
[TestClass]
[DoNotParallelize]
public sealed class AdminApiTests
{
    private static GatewayFixture _gateway = null!;

    [ClassInitialize]
    public static async Task StartAsync(TestContext _) => _gateway = await GatewayFixture.StartAsync();

    [ClassCleanup]
    public static async Task StopAsync() => await _gateway.DisposeAsync();

    private static async Task<JsonElement> JsonAsync(HttpResponseMessage response, HttpStatusCode expected)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.AreEqual(expected, response.StatusCode, body);
        return JsonDocument.Parse(body).RootElement;
    }

    [TestMethod]
    public async Task MaintenanceModeStopsNewWorkAndSaysWhy()
    {
        using var admin = _gateway.Http(await _gateway.KeyAsync("admin"));
        using var developer = _gateway.Http(await _gateway.KeyAsync("developer"));
        Assert.AreEqual(HttpStatusCode.Forbidden, (await developer.GetAsync("api/admin/settings")).StatusCode);
        var missing = await JsonAsync(await admin.PutAsJsonAsync("api/admin/settings", new { maintenance_mode = true }), HttpStatusCode.BadRequest);
        Assert.IsTrue(missing.GetProperty("errors").TryGetProperty("maintenance_reason", out _));

        var on = await JsonAsync(await admin.PutAsJsonAsync("api/admin/settings", new { maintenance_mode = true, maintenance_reason = "database upgrade until 18:00" }), HttpStatusCode.OK);
        Assert.IsTrue(on.GetProperty("maintenance_mode").GetBoolean());
        try
        {
            using var refused = await developer.PostAsJsonAsync("api/jobs", new { prompt = "ROMEO:", max_tokens = 5 });
            var problem = await JsonAsync(refused, HttpStatusCode.ServiceUnavailable);
            StringAssert.Contains(problem.GetProperty("detail").GetString(), "database upgrade until 18:00");
            Assert.AreEqual("60", refused.Headers.GetValues("Retry-After").Single());
            using var chat = await developer.PostAsJsonAsync("v1/chat/completions", new { model = "shakespeare-char", messages = new[] { new { role = "user", content = "hi" } } });
            Assert.AreEqual(HttpStatusCode.ServiceUnavailable, chat.StatusCode);
        }
        finally
        {
            await JsonAsync(await admin.PutAsJsonAsync("api/admin/settings", new { maintenance_mode = false }), HttpStatusCode.OK);
        }

        using var accepted = await developer.PostAsJsonAsync("api/jobs", new { prompt = "ROMEO:", max_tokens = 5 });
        Assert.AreEqual(HttpStatusCode.Accepted, accepted.StatusCode);
    }

    [TestMethod]
    public async Task WorkersArePausedResumedAndBannedWithReasons()
    {
        using var admin = _gateway.Http(await _gateway.KeyAsync("admin"));
        var workers = await JsonAsync(await admin.GetAsync("api/admin/workers"), HttpStatusCode.OK);
        var id = workers.EnumerateArray().Single().GetProperty("id").GetString()!;
        Assert.AreEqual(HttpStatusCode.NotFound, (await admin.PostAsJsonAsync("api/admin/workers/no-such-worker/pause", new { reason = "x" })).StatusCode);
        await JsonAsync(await admin.PostAsJsonAsync($"api/admin/workers/{id}/pause", new { reason = "" }), HttpStatusCode.BadRequest);

        var paused = await JsonAsync(await admin.PostAsJsonAsync($"api/admin/workers/{id}/pause", new { reason = "thermal throttling" }), HttpStatusCode.OK);
        Assert.AreEqual("Paused", paused.GetProperty("status").GetString());
        Assert.AreEqual("thermal throttling", paused.GetProperty("status_reason").GetString());
        var banned = await JsonAsync(await admin.PostAsJsonAsync($"api/admin/workers/{id}/ban", new { reason = "altered output" }), HttpStatusCode.OK);
        Assert.AreEqual("Banned", banned.GetProperty("status").GetString());
        var resumed = await JsonAsync(await admin.PostAsJsonAsync($"api/admin/workers/{id}/resume", new { }), HttpStatusCode.OK);
        Assert.AreEqual("Active", resumed.GetProperty("status").GetString());
        Assert.AreEqual("Active", (await JsonAsync(await admin.GetAsync($"api/admin/workers/{id}"), HttpStatusCode.OK)).GetProperty("status").GetString());
    }

    /// <summary>The worker's balance over HTTP, with the ledger's entries (sequence → total) as they were when it was read.</summary>
    private static async Task<(decimal Balance, Dictionary<long, decimal> Entries)> BalanceAsync(HttpClient http, string worker)
    {
        while (true)
        {
            var first = await _gateway.Pool.GetRewardHistoryAsync(worker, limit: 1000);
            var balance = (await JsonAsync(await http.GetAsync($"api/rewards/{worker}"), HttpStatusCode.OK)).GetProperty("balance").GetDecimal();
            var second = await _gateway.Pool.GetRewardHistoryAsync(worker, limit: 1000);
            if (first.Entries.Select(e => e.Sequence).SequenceEqual(second.Entries.Select(e => e.Sequence)))
                return (balance, second.Entries.ToDictionary(e => e.Sequence, e => e.Total));
        }
    }

    [TestMethod]
    public async Task AnAdminCorrectsARewardAndTheBalanceFollows()
    {
        using var admin = _gateway.Http(await _gateway.KeyAsync("admin"));
        using var developer = _gateway.Http(await _gateway.KeyAsync("developer"));
        var worker = (await JsonAsync(await admin.GetAsync("api/admin/workers"), HttpStatusCode.OK)).EnumerateArray().Single().GetProperty("id").GetString()!;
        var job = await JsonAsync(await developer.PostAsJsonAsync("api/jobs", new { prompt = "ROMEO:", max_tokens = 50, seed = 3 }), HttpStatusCode.Accepted);
        var deadline = DateTime.UtcNow.AddMinutes(1);
        JsonElement credit;
        while (true)
        {
            var history = await _gateway.Pool.GetRewardHistoryAsync(worker, limit: 1000);
            if (history.Entries.FirstOrDefault(e => e.JobId.ToString() == job.GetProperty("id").GetString()) is { } entry)
            {
                credit = JsonSerializer.SerializeToElement(new { sequence = entry.Sequence, total = entry.Total });
                break;
            }

            Assert.IsTrue(DateTime.UtcNow < deadline, "the job was not credited");
            await Task.Delay(200);
        }

        // The worker may be credited for other work meanwhile (storage it holds is paid when audited): each balance is
        // read between two identical reads of the ledger, so what else landed can be told apart from the correction.
        var (before, entriesBefore) = await BalanceAsync(developer, worker);
        var sequence = credit.GetProperty("sequence").GetInt64();
        var total = credit.GetProperty("total").GetDecimal();
        var tooMuch = await JsonAsync(await admin.PostAsJsonAsync($"api/admin/rewards/{worker}/corrections", new { sequence, amount = total + 1, reason = "test" }), HttpStatusCode.BadRequest);
        Assert.IsTrue(tooMuch.GetProperty("errors").TryGetProperty("amount", out _), tooMuch.ToString());
        Assert.AreEqual(HttpStatusCode.Forbidden, (await developer.PostAsJsonAsync($"api/admin/rewards/{worker}/corrections", new { sequence, reason = "test" })).StatusCode);

        var correction = await JsonAsync(await admin.PostAsJsonAsync($"api/admin/rewards/{worker}/corrections", new { sequence, reason = "duplicate prompt" }), HttpStatusCode.OK);
        Assert.AreEqual(-total, correction.GetProperty("total").GetDecimal());
        Assert.AreEqual(sequence, correction.GetProperty("corrects").GetInt64());
        var (after, entriesAfter) = await BalanceAsync(developer, worker);
        var others = entriesAfter.Where(e => !entriesBefore.ContainsKey(e.Key) && e.Key != correction.GetProperty("sequence").GetInt64()).Sum(e => e.Value);
        Assert.AreEqual(before - total + others, after);
        await JsonAsync(await developer.GetAsync("api/leaderboard?period=all&top=5"), HttpStatusCode.OK);
        await JsonAsync(await developer.GetAsync("api/leaderboard?period=decade"), HttpStatusCode.BadRequest);

        // A worker that never registered is not found, as in the CLI (exit 2) and the SDK (KeyNotFoundException).
        var unknown = await JsonAsync(await developer.GetAsync("api/rewards/nobody-mines-here"), HttpStatusCode.NotFound);
        Assert.AreEqual("no worker with id 'nobody-mines-here' has registered", unknown.GetProperty("detail").GetString());
        await JsonAsync(await admin.PostAsJsonAsync("api/admin/rewards/nobody-mines-here/corrections", new { sequence, reason = "test" }), HttpStatusCode.NotFound);
        await Assert.ThrowsExactlyAsync<KeyNotFoundException>(() => _gateway.Pool.GetRewardsAsync("nobody-mines-here"));
    }

    [TestMethod]
    public async Task LibrariesAreCheckedVerifiedAndDescribedOnEverySilo()
    {
        using var admin = _gateway.Http(await _gateway.KeyAsync("admin"));
        using var developer = _gateway.Http(await _gateway.KeyAsync("developer"));
        Assert.AreEqual(HttpStatusCode.Forbidden, (await developer.GetAsync("api/libraries")).StatusCode);

        var check = await JsonAsync(await admin.GetAsync("api/libraries"), HttpStatusCode.OK);
        var silo = check.EnumerateArray().Single();
        Assert.AreEqual(JsonValueKind.Null, silo.GetProperty("error").ValueKind, silo.ToString());
        Assert.AreEqual("ok", silo.GetProperty("result").GetProperty("status").GetString());
        StringAssert.StartsWith(silo.GetProperty("result").GetProperty("lib_torch_version").GetString(), "2.");

        var verify = (await JsonAsync(await admin.PostAsync("api/libraries/verify", null), HttpStatusCode.OK)).EnumerateArray().Single();
        Assert.IsTrue(verify.GetProperty("result").GetProperty("ok").GetBoolean(), verify.ToString());
        var install = (await JsonAsync(await admin.PostAsync("api/libraries/install", null), HttpStatusCode.OK)).EnumerateArray().Single();
        Assert.AreEqual("ok", install.GetProperty("result").GetProperty("status").GetString());
        var environment = (await JsonAsync(await admin.GetAsync("api/libraries/environment"), HttpStatusCode.OK)).EnumerateArray().Single();
        Assert.IsTrue(environment.GetProperty("result").GetProperty("cores").GetInt32() >= 1);
        Assert.AreEqual(silo.GetProperty("silo").GetString(), environment.GetProperty("silo").GetString());
    }
}

/// <summary>The volume status endpoints for admins.</summary>
[TestClass]
[DoNotParallelize]
public sealed class VolumesApiTests
{
    [TestMethod]
    public async Task AnAdminReadsAVolumesHealthAndBadOrUnknownNamesAreRefused()
    {
        await using var gateway = await GatewayFixture.StartAsync();
        await gateway.Pool.Volumes.CreateAsync("status-check", new PoolAI.Volumes.VolumeSpec("mirror:1"));
        await gateway.Pool.Volumes.WriteAsync("status-check", "a.txt", new MemoryStream("hello"u8.ToArray()));
        using var admin = gateway.Http(await gateway.KeyAsync("admin"));
        using var developer = gateway.Http(await gateway.KeyAsync("developer"));

        var response = await admin.GetAsync("api/volumes/status-check");
        var body = await response.Content.ReadAsStringAsync();
        Assert.AreEqual(HttpStatusCode.OK, response.StatusCode, body);
        var health = JsonDocument.Parse(body).RootElement;
        Assert.AreEqual("mirror:1", health.GetProperty("volume").GetProperty("layout").GetString());
        Assert.AreEqual(1, health.GetProperty("stripes").GetInt64());
        Assert.AreEqual(1, health.GetProperty("healthy").GetInt64());

        var list = JsonDocument.Parse(await admin.GetStringAsync("api/volumes")).RootElement;
        Assert.IsTrue(list.EnumerateArray().Any(v => v.GetProperty("name").GetString() == "status-check"));
        Assert.AreEqual(HttpStatusCode.Forbidden, (await developer.GetAsync("api/volumes/status-check")).StatusCode);
        Assert.AreEqual(HttpStatusCode.NotFound, (await admin.GetAsync("api/volumes/no-such-volume")).StatusCode);
        var bad = await admin.GetAsync("api/volumes/Bad_Name");
        Assert.AreEqual(HttpStatusCode.BadRequest, bad.StatusCode);
        StringAssert.Contains(await bad.Content.ReadAsStringAsync(), "name");
    }
}
