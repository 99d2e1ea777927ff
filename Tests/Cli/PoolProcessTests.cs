using PoolAI.Benchmarks.Failover;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using PoolAI.Models;

namespace PoolAI.Tests.Cli;

/// <summary>The Silo and Gateway executables hosting a pool, and the CLI joining that pool instead of starting its own.</summary>
[TestClass]
[DoNotParallelize]
public sealed partial class PoolProcessTests
{
    [TestMethod]
    public async Task CliJoinsThePoolAGatewayHostsAndTheGatewayServesTheJob()
    {
        var gatewayPort = TestPorts.Free();
        var httpPort = TestPorts.Free();
        using var gateway = PoolProcess.Start("PoolAI.Gateway.dll", httpPort, gatewayPort, new Dictionary<string, string>());
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{httpPort}") };
        await gateway.WaitForLogAsync("Application started", TimeSpan.FromMinutes(2));
        Assert.AreEqual(HttpStatusCode.OK, (await http.GetAsync("/healthz")).StatusCode);
        Assert.AreEqual(HttpStatusCode.Unauthorized, (await http.GetAsync("/api/models")).StatusCode);
        var key = await PoolaiProcess.RunAsync(
            new Dictionary<string, string> { ["POOLAI__Cluster__GatewayPort"] = gatewayPort.ToString(System.Globalization.CultureInfo.InvariantCulture) },
            "keys", "create", "--role", "admin", "--name", "cli test"); // admin: it reads the job the CLI submitted
        Assert.AreEqual(0, key.ExitCode, key.StandardError);
        StringAssert.StartsWith(key.StandardOutput, "pai_");
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", key.StandardOutput.Trim());

        var bad = await http.PostAsJsonAsync("/api/jobs", new { prompt = "ROMEO:", max_tokens = 0 });
        Assert.AreEqual(HttpStatusCode.BadRequest, bad.StatusCode);
        var problem = await bad.Content.ReadFromJsonAsync<JsonElement>();
        Assert.AreEqual("must be between 1 and 4096, was 0", problem.GetProperty("errors").GetProperty("max_tokens")[0].GetString());

        foreach (var (body, field) in new[]
        {
            ("""{"prompt":123}""", "prompt"),
            ("""{"prompt":"ROMEO:","max_tokens":"50"}""", "max_tokens"),
            ("""{"prompt":"ROMEO:","stop":"x"}""", "stop"),
            ("""{"prompt":"ROMEO:","bogus":1}""", "bogus"),
            ("""{"prompt":"ROMEO:","max_tokens":""", "max_tokens"),
            ("null", "body"),
        })
        {
            var response = await http.PostAsync("/api/jobs", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));
            Assert.AreEqual(HttpStatusCode.BadRequest, response.StatusCode, body);
            var errors = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors");
            Assert.IsTrue(errors.TryGetProperty(field, out _), $"{body} → {errors}");
        }

        var cli = await PoolaiProcess.RunAsync(
            new Dictionary<string, string> { ["POOLAI__Cluster__GatewayPort"] = gatewayPort.ToString(System.Globalization.CultureInfo.InvariantCulture) },
            "generate", "ROMEO:", "--max-tokens", "40", "--seed", "3");
        Assert.AreEqual(0, cli.ExitCode, cli.StandardError);
        StringAssert.Contains(cli.StandardError, $"via local pool on port {gatewayPort}]");
        var expected = new TextGenerator(TestModels.ShakespeareModel).Generate(TestModels.Settings(maxTokens: 40, seed: 3));
        Assert.AreEqual("ROMEO:" + expected.Text + Environment.NewLine, cli.StandardOutput);

        var jobId = JobIdPattern().Match(cli.StandardError).Groups[1].Value;
        var job = await http.GetFromJsonAsync<JsonElement>($"/api/jobs/{jobId}");
        Assert.AreEqual("Succeeded", job.GetProperty("status").GetString());
        Assert.AreEqual(expected.Text, job.GetProperty("result").GetProperty("output").GetProperty("text").GetString());

        var environment = new Dictionary<string, string> { ["POOLAI__Cluster__GatewayPort"] = gatewayPort.ToString(System.Globalization.CultureInfo.InvariantCulture) };
        var cancel = await PoolaiProcess.RunAsync(environment, "cancel", jobId);
        Assert.AreEqual(4, cancel.ExitCode, cancel.StandardError);
        Assert.AreEqual($"poolai: job {jobId} has finished (Succeeded); it cannot be cancelled", cancel.StandardError.Trim());

        var probe = await PoolaiProcess.RunAsync(environment, "system", "probe", "--param", "tokens=4");
        Assert.AreEqual(0, probe.ExitCode, probe.StandardError);
        var artifactLine = ArtifactPattern().Match(probe.StandardOutput);
        Assert.IsTrue(artifactLine.Success, probe.StandardOutput);
        var file = Path.Combine(Path.GetTempPath(), $"poolai-probe-{Guid.NewGuid():N}.json");
        var folder = Path.Combine(Path.GetTempPath(), $"poolai-artifacts-{Guid.NewGuid():N}");
        try
        {
            var get = await PoolaiProcess.RunAsync(environment, "artifact", "get", artifactLine.Groups[1].Value, "--out", file);
            Assert.AreEqual(0, get.ExitCode, get.StandardError);
            Assert.AreEqual(artifactLine.Groups[1].Value, Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(await File.ReadAllBytesAsync(file))));
            Assert.AreEqual(4, JsonDocument.Parse(await File.ReadAllBytesAsync(file)).RootElement.GetProperty("models")[0].GetProperty("tokens").GetInt32());

            var again = await PoolaiProcess.RunAsync(environment, "artifact", "get", artifactLine.Groups[1].Value, "--out", file);
            Assert.AreEqual(2, again.ExitCode, again.StandardError);
            Assert.AreEqual($"poolai: invalid --out: '{file}' already exists; pass --force to replace it, or name another file with --out", again.StandardError.Trim());
            var forced = await PoolaiProcess.RunAsync(environment, "artifact", "get", artifactLine.Groups[1].Value, "--out", file, "--force");
            Assert.AreEqual(0, forced.ExitCode, forced.StandardError);

            // A folder gets the artifact under its own name; a folder that does not exist is refused before the pool is asked.
            Directory.CreateDirectory(folder);
            var intoFolder = await PoolaiProcess.RunAsync(environment, "artifact", "get", artifactLine.Groups[1].Value, "--out", folder);
            Assert.AreEqual(0, intoFolder.ExitCode, intoFolder.StandardError);
            CollectionAssert.AreEqual(new[] { "probe.json" }, Directory.GetFiles(folder).Select(Path.GetFileName).ToArray(), "the file, and no .part left behind");
            var missing = Path.Combine(folder, "no-such-folder");
            var nowhere = await PoolaiProcess.RunAsync(environment, "artifact", "get", artifactLine.Groups[1].Value, "--out", Path.Combine(missing, "probe.json"));
            Assert.AreEqual(2, nowhere.ExitCode, nowhere.StandardError);
            Assert.AreEqual($"poolai: invalid --out: folder '{missing}' does not exist", nowhere.StandardError.Trim());
        }
        finally
        {
            File.Delete(file);
            if (Directory.Exists(folder))
                Directory.Delete(folder, recursive: true);
        }

        var badId = await PoolaiProcess.RunAsync(environment, "artifact", "get", "not-an-id");
        Assert.AreEqual(2, badId.ExitCode);
        Assert.AreEqual("poolai: invalid id: must be an artifact id: 64 hex characters (a SHA-256), as a job lists it; was 'not-an-id'", badId.StandardError.Trim());

        Assert.AreEqual(HttpStatusCode.NotFound, (await http.GetAsync($"/api/jobs/{Guid.NewGuid()}")).StatusCode);
        var models = await http.GetFromJsonAsync<JsonElement>("/api/models");
        Assert.AreEqual(TestModels.Shakespeare, models[0].GetProperty("id").GetString());
    }

    [TestMethod]
    public async Task SiloServesTheDashboardAndTheCliJoinsItsPool()
    {
        var gatewayPort = TestPorts.Free();
        var httpPort = TestPorts.Free();
        using var silo = PoolProcess.Start("PoolAI.Silo.dll", httpPort, gatewayPort, new Dictionary<string, string>());
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{httpPort}") };
        await silo.WaitForLogAsync("Application started", TimeSpan.FromMinutes(2));
        var dashboard = await http.GetAsync("/dashboard");
        Assert.AreEqual(HttpStatusCode.OK, dashboard.StatusCode);
        StringAssert.Contains(await dashboard.Content.ReadAsStringAsync(), "<html", StringComparison.OrdinalIgnoreCase);

        var cli = await PoolaiProcess.RunAsync(
            new Dictionary<string, string> { ["POOLAI__Cluster__GatewayPort"] = gatewayPort.ToString(System.Globalization.CultureInfo.InvariantCulture) },
            "generate", "KING:", "--max-tokens", "30", "--seed", "5", "--temperature", "0");
        Assert.AreEqual(0, cli.ExitCode, cli.StandardError);
        StringAssert.Contains(cli.StandardError, $"via local pool on port {gatewayPort}]");
        var expected = new TextGenerator(TestModels.ShakespeareModel).Generate(TestModels.Settings(prompt: "KING:", maxTokens: 30, seed: 5, temperature: 0f));
        Assert.AreEqual("KING:" + expected.Text + Environment.NewLine, cli.StandardOutput);
    }

    /// <summary><c>poolai rewards</c> and <c>poolai leaderboard</c> against a running silo show the credit of a job the CLI ran there.</summary>
    [TestMethod]
    public async Task CliShowsAWorkersRewardsAndTheLeaderboard()
    {
        var gatewayPort = TestPorts.Free();
        var worker = $"cli-{Guid.NewGuid():N}"[..12];
        using var silo = PoolProcess.Start("PoolAI.Silo.dll", TestPorts.Free(), gatewayPort, new Dictionary<string, string>
        {
            ["PoolAI__Worker__WorkerId"] = worker,
            ["PoolAI__Rewards__VerificationShare"] = "0",
        });
        await silo.WaitForLogAsync("Application started", TimeSpan.FromMinutes(2));
        var pool = new Dictionary<string, string> { ["POOLAI__Cluster__GatewayPort"] = gatewayPort.ToString(System.Globalization.CultureInfo.InvariantCulture) };
        var generate = await PoolaiProcess.RunAsync(pool, "generate", "KING:", "--max-tokens", "30", "--seed", "8");
        Assert.AreEqual(0, generate.ExitCode, generate.StandardError);
        var jobId = JobIdPattern().Match(generate.StandardError).Groups[1].Value;

        await silo.WaitForLogAsync($"Worker {worker} credited", TimeSpan.FromSeconds(30));
        var json = await PoolaiProcess.RunAsync(pool, "rewards", worker, "--json");
        Assert.AreEqual(0, json.ExitCode, json.StandardError);
        using (var document = JsonDocument.Parse(json.StandardOutput))
        {
            var summary = document.RootElement.GetProperty("summary");
            var entries = document.RootElement.GetProperty("entries");
            Assert.AreEqual(worker, summary.GetProperty("worker").GetString());
            Assert.AreEqual(1, entries.GetArrayLength());
            Assert.AreEqual(jobId, entries[0].GetProperty("job_id").GetString());
            Assert.AreEqual(30, entries[0].GetProperty("work_units").GetInt64());
            Assert.AreEqual(entries[0].GetProperty("total").GetDecimal(), summary.GetProperty("balance").GetDecimal());
            Assert.AreEqual(1, summary.GetProperty("streak").GetInt32());
        }

        var table = await PoolaiProcess.RunAsync(pool, "rewards", worker);
        Assert.AreEqual(0, table.ExitCode, table.StandardError);
        StringAssert.Contains(table.StandardOutput, "Streak 1 (level 0, +0%; 9 more to level 1)");
        StringAssert.Contains(table.StandardOutput, $"│ 1 ");
        StringAssert.Contains(table.StandardOutput, jobId.Replace("-", string.Empty, StringComparison.Ordinal)[..8]);

        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            var board = await PoolaiProcess.RunAsync(pool, "leaderboard", "--period", "all", "--json");
            Assert.AreEqual(0, board.ExitCode, board.StandardError);
            if (board.StandardOutput.Contains($"\"worker\": \"{worker}\"", StringComparison.Ordinal))
                break;
            Assert.IsTrue(DateTime.UtcNow < deadline, $"{worker} not on the leaderboard: {board.StandardOutput}");
            await Task.Delay(500);
        }

        var bad = await PoolaiProcess.RunAsync(pool, "rewards", worker, "--limit", "0");
        Assert.AreEqual(2, bad.ExitCode);
        StringAssert.StartsWith(bad.StandardError, "poolai: invalid --limit: must be between 1 and 1000, was 0");
    }

    [GeneratedRegex(@"job ([0-9a-f\-]{36})")]
    private static partial Regex JobIdPattern();

    [GeneratedRegex(@"^artifact ([0-9a-f]{64}) probe\.json ", RegexOptions.Multiline)]
    private static partial Regex ArtifactPattern();
}
