using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using PoolAI.Models;

namespace PoolAI.Tests.Gateway;

/// <summary>The job API over HTTP: submit, list with filters and paging, ownership, re-prioritise, cancel, events.</summary>
[TestClass]
[DoNotParallelize]
public sealed class JobApiTests
{
    private static GatewayFixture _gateway = null!;

    [ClassInitialize]
    public static async Task StartAsync(TestContext _) => _gateway = await GatewayFixture.StartAsync(slots: 1); // one slot: a second job waits behind a long one

    [ClassCleanup]
    public static async Task StopAsync() => await _gateway.DisposeAsync();

    [TestMethod]
    public async Task ListsOnlyTheCallersJobsWithFiltersAndPages()
    {
        using var alice = _gateway.Http(await _gateway.KeyAsync("developer"));
        using var bob = _gateway.Http(await _gateway.KeyAsync("developer"));
        var ids = new List<string>();
        for (var i = 0; i < 5; i++)
            ids.Add((await GatewayFixture.SubmitJobAsync(alice, new { prompt = "ROMEO:", max_tokens = 5, seed = i })).GetProperty("id").GetString()!);
        foreach (var id in ids)
            await GatewayFixture.WaitFinalAsync(alice, id);

        var first = await alice.GetFromJsonAsync<JsonElement>("api/jobs?limit=2&status=succeeded");
        // The cursor is URL-safe as it is (UTC, no '+'): pasted unencoded, it still works.
        var cursor = first.GetProperty("next_before").GetString()!;
        Assert.IsFalse(cursor.Contains('+', StringComparison.Ordinal), cursor);
        var second = await alice.GetFromJsonAsync<JsonElement>($"api/jobs?limit=2&status=succeeded&before={cursor}");
        var third = await alice.GetFromJsonAsync<JsonElement>($"api/jobs?limit=2&status=succeeded&before={Uri.EscapeDataString(second.GetProperty("next_before").GetString()!)}");
        // A cursor with an offset ('+00:00') pasted unencoded arrives with a space for the '+', and is still read.
        var tilde = cursor.IndexOf('~', StringComparison.Ordinal);
        var offsetForm = DateTimeOffset.Parse(cursor[..tilde], System.Globalization.CultureInfo.InvariantCulture).ToString("O", System.Globalization.CultureInfo.InvariantCulture).Replace('+', ' ') + cursor[tilde..];
        var secondAgain = await alice.GetFromJsonAsync<JsonElement>($"api/jobs?limit=2&status=succeeded&before={Uri.EscapeDataString(offsetForm)}");
        Assert.AreEqual(second.GetProperty("items").ToString(), secondAgain.GetProperty("items").ToString(), offsetForm);
        var listed = new[] { first, second, third }.SelectMany(p => p.GetProperty("items").EnumerateArray().Select(j => j.GetProperty("id").GetString()!)).ToList();
        CollectionAssert.AreEqual(Enumerable.Reverse(ids).ToList(), listed, "newest first, every job once");
        Assert.AreEqual(JsonValueKind.Null, third.GetProperty("next_before").ValueKind);
        Assert.AreEqual(0, (await alice.GetFromJsonAsync<JsonElement>("api/jobs?status=failed")).GetProperty("items").GetArrayLength());
        Assert.AreEqual(0, (await alice.GetFromJsonAsync<JsonElement>("api/jobs?model=other-model")).GetProperty("items").GetArrayLength());

        // Bob sees none of Alice's jobs; an admin may list them.
        Assert.AreEqual(0, (await bob.GetFromJsonAsync<JsonElement>("api/jobs")).GetProperty("items").GetArrayLength());
        Assert.AreEqual(HttpStatusCode.NotFound, (await bob.GetAsync($"api/jobs/{ids[0]}")).StatusCode);
        Assert.AreEqual(HttpStatusCode.NotFound, (await bob.PostAsync($"api/jobs/{ids[0]}/cancel", null)).StatusCode);
        var requester = (await alice.GetFromJsonAsync<JsonElement>($"api/jobs/{ids[0]}")).GetProperty("spec").GetProperty("requester").GetString();
        Assert.AreEqual(HttpStatusCode.Forbidden, (await bob.GetAsync($"api/jobs?requester={requester}")).StatusCode);
        using var admin = _gateway.Http(await _gateway.KeyAsync("admin"));
        Assert.AreEqual(5, (await admin.GetFromJsonAsync<JsonElement>($"api/jobs?requester={requester}&limit=100")).GetProperty("items").GetArrayLength());
    }

    [TestMethod]
    public async Task AWaitingJobIsReprioritisedAndAFinishedOneIsAConflict()
    {
        using var http = _gateway.Http(await _gateway.KeyAsync("developer"));
        // The gateway's embedded silo has one slot (see StartAsync): the long job holds it, the second waits.
        var running = (await GatewayFixture.SubmitJobAsync(http, new { prompt = "ROMEO:", max_tokens = 4000, seed = 1 })).GetProperty("id").GetString();
        var waiting = (await GatewayFixture.SubmitJobAsync(http, new { prompt = "ROMEO:", max_tokens = 5, seed = 2 })).GetProperty("id").GetString();
        using var changed = await http.PutAsJsonAsync($"api/jobs/{waiting}/priority", new { priority = 7 });
        Assert.AreEqual(HttpStatusCode.OK, changed.StatusCode, await changed.Content.ReadAsStringAsync());
        Assert.AreEqual(7, (await changed.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("spec").GetProperty("priority").GetInt32());
        using var outOfRange = await http.PutAsJsonAsync($"api/jobs/{waiting}/priority", new { priority = 99 });
        Assert.AreEqual(HttpStatusCode.BadRequest, outOfRange.StatusCode);

        Assert.AreEqual(HttpStatusCode.OK, (await http.PostAsync($"api/jobs/{running}/cancel", null)).StatusCode);
        var done = await GatewayFixture.WaitFinalAsync(http, waiting!);
        Assert.AreEqual("Succeeded", done.GetProperty("status").GetString());
        using var conflict = await http.PutAsJsonAsync($"api/jobs/{waiting}/priority", new { priority = 1 });
        Assert.AreEqual(HttpStatusCode.Conflict, conflict.StatusCode);
    }

    [TestMethod]
    public async Task EventsStreamStateOutputAndTheFinalStatus()
    {
        using var http = _gateway.Http(await _gateway.KeyAsync("developer"));
        var id = (await GatewayFixture.SubmitJobAsync(http, new { prompt = "KING:", max_tokens = 800, seed = 4 })).GetProperty("id").GetString(); // long enough to be running when the events start
        using var response = await http.GetAsync($"api/jobs/{id}/events", HttpCompletionOption.ResponseHeadersRead);
        Assert.AreEqual("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        var events = new List<(string Name, JsonElement Data)>();
        string? name = null;
        while (await reader.ReadLineAsync() is { } line)
        {
            if (line.StartsWith("event: ", StringComparison.Ordinal))
                name = line["event: ".Length..];
            else if (line.StartsWith("data: ", StringComparison.Ordinal))
                events.Add((name!, JsonDocument.Parse(line["data: ".Length..]).RootElement));
        }

        Assert.AreEqual("state", events[0].Name);
        Assert.AreEqual("state", events[^1].Name);
        Assert.AreEqual("Succeeded", events[^1].Data.GetProperty("status").GetString());
        var text = new StringBuilder();
        foreach (var (_, data) in events)
        {
            Assert.AreEqual(text.Length, data.GetProperty("offset").GetInt32(), "text out of order or with a gap");
            text.Append(data.GetProperty("text").GetString());
        }

        var expected = new TextGenerator(TestModels.ShakespeareModel).Generate(TestModels.Settings(prompt: "KING:", maxTokens: 800, seed: 4));
        Assert.AreEqual(expected.Text, text.ToString());
        Assert.IsTrue(events.Count(e => e.Name == "output") >= 1, string.Join(",", events.Select(e => e.Name)));
    }

    [TestMethod]
    public async Task AKindThePoolDoesNotServeIsRefusedNamingTheKind()
    {
        using var http = _gateway.Http(await _gateway.KeyAsync("developer"));
        using var response = await http.PostAsJsonAsync("api/jobs", new { kind = "ImageGeneration", prompt = "a cat" });
        Assert.AreEqual(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.AreEqual("'ImageGeneration' is not a kind this pool runs; it runs TextGeneration, CodeGeneration, System, DataProcessing", problem.GetProperty("errors").GetProperty("kind")[0].GetString());
    }

    [TestMethod]
    public async Task CancellingOrReprioritisingAFinishedJobIsAConflict()
    {
        using var http = _gateway.Http(await _gateway.KeyAsync("developer"));
        var id = (await GatewayFixture.SubmitJobAsync(http, new { prompt = "ROMEO:", max_tokens = 4, seed = 77, cache = false })).GetProperty("id").GetString()!;
        var deadline = DateTime.UtcNow.AddMinutes(1);
        while ((await http.GetFromJsonAsync<JsonElement>($"api/jobs/{id}")).GetProperty("status").GetString() != "Succeeded")
        {
            Assert.IsTrue(DateTime.UtcNow < deadline, "the job did not succeed");
            await Task.Delay(100);
        }

        using var cancel = await http.PostAsync($"api/jobs/{id}/cancel", null);
        Assert.AreEqual(HttpStatusCode.Conflict, cancel.StatusCode, await cancel.Content.ReadAsStringAsync());
        Assert.AreEqual($"job {id} has finished (Succeeded); it cannot be cancelled", (await cancel.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString());
        using var priority = await http.PutAsJsonAsync($"api/jobs/{id}/priority", new { priority = 3 });
        Assert.AreEqual(HttpStatusCode.Conflict, priority.StatusCode, await priority.Content.ReadAsStringAsync());
        Assert.AreEqual($"job {id} has finished (Succeeded); its priority cannot change", (await priority.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString());
        Assert.AreEqual("Succeeded", (await http.GetFromJsonAsync<JsonElement>($"api/jobs/{id}")).GetProperty("status").GetString());
    }

    [TestMethod]
    public async Task ASystemTaskRunsOverHttpAndItsArtifactDownloadsWithItsTypeAndName()
    {
        using var http = _gateway.Http(await _gateway.KeyAsync("developer"));
        var id = (await GatewayFixture.SubmitJobAsync(http, new { kind = "system", model = "probe", parameters = new { tokens = 4 } })).GetProperty("id").GetString()!;
        var deadline = DateTime.UtcNow.AddMinutes(1);
        JsonElement job;
        while ((job = await http.GetFromJsonAsync<JsonElement>($"api/jobs/{id}")).GetProperty("status").GetString() != "Succeeded")
        {
            Assert.IsTrue(DateTime.UtcNow < deadline, $"the probe did not succeed: {job}");
            await Task.Delay(100);
        }

        Assert.AreEqual("System", job.GetProperty("spec").GetProperty("kind").GetString());
        var artifact = job.GetProperty("result").GetProperty("output").GetProperty("artifacts")[0];
        var artifactId = artifact.GetProperty("id").GetString()!;
        var listed = await http.GetFromJsonAsync<JsonElement>($"api/jobs/{id}/artifacts");
        Assert.AreEqual(artifactId, listed[0].GetProperty("id").GetString());

        using var download = await http.GetAsync($"api/jobs/{id}/artifacts/{artifactId}");
        Assert.AreEqual(HttpStatusCode.OK, download.StatusCode);
        Assert.AreEqual("application/json", download.Content.Headers.ContentType!.MediaType);
        Assert.AreEqual("probe.json", download.Content.Headers.ContentDisposition!.FileNameStar ?? download.Content.Headers.ContentDisposition.FileName);
        var bytes = await download.Content.ReadAsByteArrayAsync();
        Assert.AreEqual(artifact.GetProperty("size").GetInt64(), bytes.Length);
        Assert.AreEqual(artifactId, Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes)));
        Assert.AreEqual(4, JsonDocument.Parse(bytes).RootElement.GetProperty("models")[0].GetProperty("tokens").GetInt32());

        using var other = await http.GetAsync($"api/jobs/{id}/artifacts/{new string('0', 64)}");
        Assert.AreEqual(HttpStatusCode.NotFound, other.StatusCode);
        using var stranger = _gateway.Http(await _gateway.KeyAsync("developer"));
        using var notTheirs = await stranger.GetAsync($"api/jobs/{id}/artifacts/{artifactId}");
        Assert.AreEqual(HttpStatusCode.NotFound, notTheirs.StatusCode, "another developer's job and its artifacts are not found");

        // A field the kind does not read is refused, not ignored.
        foreach (var (body, field, rule) in new (object Body, string Field, string Rule)[]
        {
            (new { kind = "System", model = "probe", prompt = "hello" }, "prompt", "is not a field of System jobs, which take parameters"),
            (new { prompt = "ROMEO:", parameters = new Dictionary<string, string> { ["tokens"] = "4" } }, "parameters", "is not a field of TextGeneration jobs, which take a prompt and sampling settings"),
        })
        {
            using var refused = await http.PostAsJsonAsync("api/jobs", body);
            Assert.AreEqual(HttpStatusCode.BadRequest, refused.StatusCode);
            Assert.AreEqual(rule, (await refused.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors").GetProperty(field)[0].GetString());
        }

        // Each malformed value gets its field's own rule, in the request's terms.
        foreach (var (json, field, rule) in new (string Json, string Field, string Rule)[]
        {
            ("""{"kind":"System","model":"probe","max_tokens":5}""", "max_tokens", "is not a field of System jobs, which take parameters"),
            ("""{"kind":"System"}""", "model", "is required for System jobs: the task's name (noop, probe, migrate, mirror)"),
            ("""{"kind":5,"prompt":"ROMEO:"}""", "kind", "must be a job kind's name, a string (such as TextGeneration or System)"),
            ("""{"kind":"Po etry!","prompt":"ROMEO:"}""", "kind", "must be a kind name (letters and digits, starting with a letter, at most 64; for example TextGeneration, CodeGeneration, ImageGeneration, Training, DataProcessing, System); was 'Po etry!'"),
            ("""{"kind":"System","model":"probe","parameters":[]}""", "parameters", "must be an object of named values, e.g. {\"tokens\": 64}"),
            ("""{"kind":"System","model":"probe","parameters":{"tokens":[4]}}""", "parameters.tokens", "must be a string, a number or true/false"),
            ("""{"kind":"System","model":"probe","parameters":{"tokens":513}}""", "parameters.tokens", "must be an integer between 1 and 512; was '513'"),
        })
        {
            using var refused = await http.PostAsync("api/jobs", new StringContent(json, System.Text.Encoding.UTF8, "application/json"));
            Assert.AreEqual(HttpStatusCode.BadRequest, refused.StatusCode, json);
            var errors = (await refused.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors");
            Assert.AreEqual(rule, errors.TryGetProperty(field, out var messages) ? messages[0].GetString() : errors.ToString(), json);
        }
    }
}
