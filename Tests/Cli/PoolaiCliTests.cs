using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using PoolAI.Admin;
using PoolAI.Client.Sdk;
using PoolAI.Jobs;
using PoolAI.Models;

namespace PoolAI.Tests.Cli;

[TestClass]
public sealed class PoolaiCliTests
{
    [TestMethod]
    [DataRow("", "prompt", "must not be empty")]
    [DataRow("ROMEO: €", "prompt", "contains characters the model's tokenizer cannot encode: '€'")]
    [DataRow("ROMEO:", "max_tokens", "must be between 1 and 4096, was 0", "--max-tokens", "0")]
    [DataRow("ROMEO:", "max_tokens", "must be between 1 and 4096, was 5000", "--max-tokens", "5000")]
    [DataRow("ROMEO:", "temperature", "must be at least 0, was -1", "--temperature", "-1")]
    [DataRow("ROMEO:", "top_p", "must be in (0, 1], was 0", "--top-p", "0")]
    [DataRow("ROMEO:", "top_p", "must be in (0, 1], was 1.5", "--top-p", "1.5")]
    [DataRow("ROMEO:", "model", "unknown model 'gpt-17'; known models: shakespeare-char", "--model", "gpt-17")]
    public async Task BadInputExitsNonZeroNamingTheFieldAndTheRule(string prompt, string field, string rule, params string[] options)
    {
        var outcome = await PoolaiProcess.RunAsync(["generate", prompt, .. options]);
        Assert.AreEqual(2, outcome.ExitCode, outcome.StandardError);
        Assert.AreEqual($"poolai: invalid {field}: {rule}", outcome.StandardError.Trim());
        Assert.AreEqual(string.Empty, outcome.StandardOutput);
    }

    [TestMethod]
    [DataRow("--max-tokens", "abc", "poolai: invalid --max-tokens: must be an integer between 1 and 4096; was 'abc'")]
    [DataRow("--bogus", "1", "poolai: Unrecognized command or argument '--bogus'")]
    public async Task TyposAreBadInputExitTwoAndPrintNoHelp(string option, string value, string expected)
    {
        var outcome = await PoolaiProcess.RunAsync("generate", "ROMEO:", option, value);
        Assert.AreEqual(2, outcome.ExitCode, outcome.StandardError);
        StringAssert.StartsWith(outcome.StandardError, expected);
        Assert.AreEqual(string.Empty, outcome.StandardOutput);
    }

    [TestMethod]
    [DataRow("poolai: invalid JOB: must be a job id (a GUID such as 3f2b9c4e-8d1a-4b7e-9f60-2c5d1e8a7b34); was 'abc'", "status", "abc")]
    [DataRow("poolai: invalid JOB: must be a job id (a GUID such as 3f2b9c4e-8d1a-4b7e-9f60-2c5d1e8a7b34); was '42'", "cancel", "42")]
    [DataRow("poolai: invalid JOB: must be a job id (a GUID such as 3f2b9c4e-8d1a-4b7e-9f60-2c5d1e8a7b34); was 'x'", "priority", "x", "1")]
    [DataRow("poolai: invalid PRIORITY: must be an integer between -10 and 10; was 'high'", "priority", "3f2b9c4e-8d1a-4b7e-9f60-2c5d1e8a7b34", "high")]
    [DataRow("poolai: invalid --period: must be one of day, week, month, all; was 'year'", "leaderboard", "--period", "year")]
    [DataRow("poolai: invalid --period: must be one of day, week, month, all; was '2'", "leaderboard", "--period", "2")]
    [DataRow("poolai: invalid --top: must be an integer between 1 and 1000; was 'ten'", "leaderboard", "--top", "ten")]
    [DataRow("poolai: invalid --limit: must be an integer between 1 and 1000; was '1.5'", "rewards", "w1", "--limit", "1.5")]
    [DataRow("poolai: invalid --temperature: must be a number between 0 and 10; was 'hot'", "generate", "ROMEO:", "--temperature", "hot")]
    [DataRow("poolai: invalid --temperature: must be a number between 0 and 10; was '1e308'", "generate", "ROMEO:", "--temperature", "1e308")]
    [DataRow("poolai: invalid --top-p: must be a number in (0, 1]; was 'NaN'", "generate", "ROMEO:", "--top-p", "NaN")]
    [DataRow("poolai: invalid --top-k: must be an integer between 0 (all) and 2147483647; was '99999999999'", "generate", "ROMEO:", "--top-k", "99999999999")]
    [DataRow("poolai: invalid --seed: must be an integer; was '1e5'", "generate", "ROMEO:", "--seed", "1e5")]
    [DataRow("poolai: invalid --seed: must be an integer between -9223372036854775808 and 9223372036854775807; was '99999999999999999999'", "generate", "ROMEO:", "--seed", "99999999999999999999")]
    [DataRow("poolai: invalid --priority: must be an integer between -10 and 10; was 'urgent'", "generate", "ROMEO:", "--priority", "urgent")]
    [DataRow("poolai: invalid --min-memory-mb: must be an integer between 0 and 16777216; was '8G'", "generate", "ROMEO:", "--min-memory-mb", "8G")]
    [DataRow("poolai: invalid --layers: must be an integer; was 'four'", "train", "--layers", "four")]
    [DataRow("poolai: invalid --steps: must be an integer between -2147483648 and 2147483647; was '99999999999'", "train", "--steps", "99999999999")]
    [DataRow("poolai: invalid --lr: must be a number; was 'fast'", "train", "--lr", "fast")]
    [DataRow("poolai: invalid --dropout: must be a finite number; was '1e400'", "train", "--dropout", "1e400")]
    public async Task AValueOfTheWrongKindIsSaidInWordsWithTheAllowedValuesNeverAsADotNetType(string expected, params string[] args)
    {
        var outcome = await PoolaiProcess.RunAsync(args);
        Assert.AreEqual(2, outcome.ExitCode, outcome.StandardError);
        Assert.AreEqual($"{expected}\npoolai: see 'poolai --help'", outcome.StandardError.Trim().ReplaceLineEndings("\n"));
        Assert.AreEqual(string.Empty, outcome.StandardOutput);
    }

    [TestMethod]
    [DataRow("abc", "poolai: configuration PoolAI:Jobs:RunningAudit: cannot be read as a time span (hh:mm:ss, or d.hh:mm:ss)")]
    [DataRow("00:00:00", "poolai: configuration PoolAI:Jobs:RunningAudit: must be between 00:00:01 and 01:00:00")]
    public async Task BadConfigurationExitsTwoWithOneLineNamingTheSetting(string value, string expected)
    {
        var outcome = await PoolaiProcess.RunAsync(new Dictionary<string, string> { ["PoolAI__Jobs__RunningAudit"] = value }, "generate", "ROMEO:", "--max-tokens", "5");
        Assert.AreEqual(2, outcome.ExitCode, outcome.StandardError);
        Assert.AreEqual(expected, outcome.StandardError.Trim());
        Assert.AreEqual(string.Empty, outcome.StandardOutput);
    }

    [TestMethod]
    public async Task AJobOfALaterRunOnTheSamePoolHomeIsAssignedAtOnce()
    {
        // The first run's stop signs its worker off (offline on the stored status board); the second run's worker
        // registers again, and its job must not be told that no worker serves the model.
        var environment = new Dictionary<string, string> { ["POOLAI_HOME"] = Path.Combine(Path.GetTempPath(), $"poolai-cli-again-{Guid.NewGuid():N}") };
        var first = await PoolaiProcess.RunAsync(environment, "generate", "ROMEO:", "--max-tokens", "5", "--seed", "1");
        var second = await PoolaiProcess.RunAsync(environment, "generate", "ROMEO:", "--max-tokens", "5", "--seed", "2");

        Assert.AreEqual(0, first.ExitCode, first.StandardError);
        Assert.AreEqual(0, second.ExitCode, second.StandardError);
        StringAssert.Contains(second.StandardError.Split('\n')[0], " assigned via embedded all-in-one silo", second.StandardError);
    }

    [TestMethod]
    public async Task RewardsOfAWorkerThatNeverRegisteredIsBadInputNotAnEmptyLedger()
    {
        var outcome = await PoolaiProcess.RunAsync("rewards", "nosuchworker");
        Assert.AreEqual(2, outcome.ExitCode, outcome.StandardError);
        Assert.AreEqual("poolai: no worker with id 'nosuchworker' has registered", outcome.StandardError.Trim());
        Assert.AreEqual(string.Empty, outcome.StandardOutput);
    }

    [TestMethod]
    public async Task APoolThatGoesAwayMidJobEndsTheToolWithOneLineAndExitThree()
    {
        var gatewayPort = TestPorts.FreeText();
        var pool = await OpenJoinablePoolAsync(gatewayPort);
        // The tool finds the pool listening on its gateway port and joins it as a client.
        var (process, stderr) = PoolaiProcess.Start(new Dictionary<string, string> { ["POOLAI__Cluster__GatewayPort"] = gatewayPort }, "generate", "ROMEO:", "--max-tokens", "4096", "--no-cache");
        using var _ = process;
        var buffer = new char[16];
        Assert.IsTrue(await process.StandardOutput.ReadAsync(buffer) > 0, "no text arrived");
        var rest = process.StandardOutput.ReadToEndAsync();

        await pool.DisposeAsync();
        await PoolaiProcess.ExitsWithinAsync(process, stderr, TimeSpan.FromMinutes(3), "of losing its pool");

        var lines = (await stderr).Trim().Split('\n');
        Assert.AreEqual(3, process.ExitCode, await stderr);
        StringAssert.StartsWith(lines[^1], "poolai: the pool cannot be reached or the connection to it was lost (", await stderr);
        // Neither a stack trace of the tool's own nor Orleans' connection warnings (which carry theirs): the line says it.
        Assert.AreEqual(2, lines.Length, "the job line and the one error line only: " + await stderr);
        StringAssert.StartsWith(lines[0], "[job ", await stderr);
        await rest;
    }

    [TestMethod]
    public async Task AToolThatHostsThePoolStaysUntilTheJobsOfToolsThatJoinedItHaveFinished()
    {
        var gatewayPort = TestPorts.FreeText();
        // The host's job must outlast the second tool's start (seconds): on the TorchSharp decoder its 1,500 tokens
        // take about ten, where the native one would be done in half a second.
        var environment = new Dictionary<string, string> { ["POOLAI__Cluster__GatewayPort"] = gatewayPort, ["POOLAI__Miner__Decoder"] = "torch" };
        var (host, hostErrors) = PoolaiProcess.Start(environment, "generate", "ROMEO:", "--max-tokens", "1500", "--no-cache", "--seed", "1");
        using var _ = host;
        var buffer = new char[16];
        var read = await host.StandardOutput.ReadAsync(buffer);
        Assert.IsTrue(read > 0, "the hosting tool produced no text");
        var hostText = host.StandardOutput.ReadToEndAsync();

        // The second tool finds the first one's pool on the gateway port and joins it; its job outlasts the first one's.
        var joined = await PoolaiProcess.RunAsync(environment, "generate", "JULIET:", "--max-tokens", "2500", "--no-cache", "--seed", "2");
        await PoolaiProcess.ExitsWithinAsync(host, hostErrors, TimeSpan.FromMinutes(3), "after the job of the tool that joined it");

        Assert.AreEqual(0, joined.ExitCode, joined.StandardError);
        StringAssert.Contains(joined.StandardError, $"via local pool on port {gatewayPort}", "the second tool joined the first one's pool");
        // Prompt, one character per token, and the closing newline: the joined job ran to the end.
        Assert.AreEqual("JULIET:".Length + 2500 + Environment.NewLine.Length, joined.StandardOutput.Length, joined.StandardError);
        Assert.AreEqual(0, host.ExitCode, await hostErrors);
        StringAssert.Contains(await hostErrors, "poolai: this process hosts the pool, and 1 job(s) that other commands submitted to it have not finished; it stays until they have");
        Assert.AreEqual("ROMEO:".Length + 1500 + Environment.NewLine.Length, read + (await hostText).Length, "the hosting tool's own job ran to the end");
    }

    [TestMethod]
    public async Task PriorityChangesAWaitingJobsPriorityAndRefusesOneOutOfRange()
    {
        var gatewayPort = TestPorts.FreeText();
        await using var pool = await OpenJoinablePoolAsync(gatewayPort);
        // A cuda job on this CPU pool waits: it is not final, so its priority may change.
        var waiting = await pool.Client.SubmitAsync(JobSpec.TextGeneration(TestModels.Shakespeare, new GenerationSettings("ROMEO:", 5, 0.8f, 0, 1f, 1, null))
            with { Requirements = new JobRequirements(Device: "cuda") });
        var environment = new Dictionary<string, string> { ["POOLAI__Cluster__GatewayPort"] = gatewayPort };

        var lowered = await PoolaiProcess.RunAsync(environment, "priority", waiting.Id.ToString(), "-5");
        var refused = await PoolaiProcess.RunAsync(environment, "priority", waiting.Id.ToString(), "11");

        Assert.AreEqual(0, lowered.ExitCode, lowered.StandardError);
        Assert.AreEqual($"{waiting.Id}: Queued, priority -5", lowered.StandardOutput.Trim());
        Assert.AreEqual(-5, (await pool.Client.GetAsync(waiting.Id)).Spec.Priority);
        Assert.AreEqual(2, refused.ExitCode, refused.StandardError);
        Assert.AreEqual("poolai: invalid priority: must be between -10 and 10, was 11", refused.StandardError.Trim());
        Assert.AreEqual(-5, (await pool.Client.GetAsync(waiting.Id)).Spec.Priority, "a refused change changes nothing");
    }

    [TestMethod]
    public async Task APoolInMaintenanceRefusesTheJobWithOneLineAndExitThree()
    {
        var gatewayPort = TestPorts.FreeText();
        await using var pool = await OpenJoinablePoolAsync(gatewayPort);
        await pool.Services.GetRequiredService<IGrainFactory>().GetGrain<IPoolSettingsGrain>(IPoolSettingsGrain.Key)
            .SetAsync(new PoolSettings(MaintenanceMode: true, MaintenanceReason: "moving racks"), "test");
        // Coordinators re-read the settings every second: wait until this one refuses jobs.
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (!await RefusesAsync(pool.Client) && DateTime.UtcNow < deadline)
            await Task.Delay(100);

        // The tool finds the pool listening on its gateway port and joins it as a client.
        var outcome = await PoolaiProcess.RunAsync(new Dictionary<string, string> { ["POOLAI__Cluster__GatewayPort"] = gatewayPort }, "generate", "ROMEO:", "--max-tokens", "5");
        Assert.AreEqual(3, outcome.ExitCode, outcome.StandardError);
        Assert.AreEqual("poolai: the pool is in maintenance and accepts no new jobs: moving racks", outcome.StandardError.Trim());
        Assert.AreEqual(string.Empty, outcome.StandardOutput);

        static async Task<bool> RefusesAsync(PoolClient client)
        {
            try
            {
                await client.SubmitAsync(JobSpec.Noop("maintenance-probe"));
                return false;
            }
            catch (PoolMaintenanceException)
            {
                return true;
            }
        }
    }

    [TestMethod]
    public async Task InterruptCancelsTheJobAndExits130()
    {
        // A job that waits (no silo of the embedded pool is a cuda one), so the interrupt always finds it unfinished: a
        // running 4096-token job takes under a second here, which would make the test about timing.
        var (process, stderr) = PoolaiProcess.Start(null, "generate", "ROMEO:", "--max-tokens", "64", "--device", "cuda");
        using var _ = process;
        var buffer = new char[16];
        Assert.IsTrue(await process.StandardOutput.ReadAsync(buffer) > 0, "the prompt was not echoed");

        Assert.AreEqual(0, PosixSignals.Interrupt(process.Id), "kill(2) failed");
        var rest = process.StandardOutput.ReadToEndAsync();
        await PoolaiProcess.ExitsWithinAsync(process, stderr, TimeSpan.FromSeconds(30), "of the interrupt");

        Assert.AreEqual(130, process.ExitCode, await stderr);
        StringAssert.Contains(await stderr, "queued via embedded");
        StringAssert.Contains(await stderr, "poolai: interrupted; the job was cancelled");
        Assert.AreEqual(string.Empty, (await rest).Trim(), "text after the interrupt");
    }

    [TestMethod]
    public async Task GenerateRunsTheMainJobOnAnEmbeddedPoolAndTheSameSeedGivesTheSameText()
    {
        var first = await PoolaiProcess.RunAsync("generate", "ROMEO:", "--max-tokens", "120", "--seed", "7");
        var second = await PoolaiProcess.RunAsync("generate", "ROMEO:", "--max-tokens", "120", "--seed", "7");

        Assert.AreEqual(0, first.ExitCode, first.StandardError);
        Assert.AreEqual(0, second.ExitCode, second.StandardError);
        var expected = new TextGenerator(TestModels.ShakespeareModel).Generate(TestModels.Settings(maxTokens: 120, seed: 7, temperature: 0.8f));
        Assert.AreEqual("ROMEO:" + expected.Text + Environment.NewLine, first.StandardOutput);
        Assert.AreEqual(first.StandardOutput, second.StandardOutput);
        var lines = first.StandardError.Trim().Split('\n');
        Assert.AreEqual(2, lines.Length, first.StandardError);
        StringAssert.StartsWith(lines[0], "[job ");
        StringAssert.Contains(lines[0], " via embedded all-in-one silo");
        StringAssert.StartsWith(lines[1], "[120 tokens in ");
    }

    [TestMethod]
    public async Task GenerateServesARepeatFromTheResultCacheKeptInPoolHomeUnlessToldNoCache()
    {
        var home = Path.Combine(Path.GetTempPath(), $"poolai-cli-cache-{Guid.NewGuid():N}");
        var environment = new Dictionary<string, string> { ["POOLAI_HOME"] = home };
        try
        {
            string[] generate = ["generate", "ROMEO:", "--max-tokens", "30", "--seed", "12"];
            var first = await PoolaiProcess.RunAsync(environment, generate);
            var repeat = await PoolaiProcess.RunAsync(environment, generate);
            var optedOut = await PoolaiProcess.RunAsync(environment, [.. generate, "--no-cache"]);

            foreach (var outcome in new[] { first, repeat, optedOut })
                Assert.AreEqual(0, outcome.ExitCode, outcome.StandardError);
            Assert.AreEqual(first.StandardOutput, repeat.StandardOutput);
            Assert.AreEqual(first.StandardOutput, optedOut.StandardOutput);
            StringAssert.StartsWith(first.StandardError.Trim().Split('\n')[1], "[30 tokens in ");
            StringAssert.StartsWith(repeat.StandardError.Trim().Split('\n')[1], "[30 tokens from the result cache (job ");
            StringAssert.StartsWith(optedOut.StandardError.Trim().Split('\n')[1], "[30 tokens in ");
        }
        finally
        {
            if (Directory.Exists(home))
                Directory.Delete(home, recursive: true);
        }
    }

    [TestMethod]
    public async Task LibsReportsTheLoadedTorchAndTheHostLibstdcxx()
    {
        var outcome = await PoolaiProcess.RunAsync("libs");
        Assert.AreEqual(0, outcome.ExitCode, outcome.StandardError);
        StringAssert.Contains(outcome.StandardOutput, "2.10.0");
        StringAssert.Contains(outcome.StandardOutput, "GLIBCXX_");
        StringAssert.Contains(outcome.StandardOutput, "libLibTorchSharp.so");
    }

    [TestMethod]
    public async Task EvalPrintsTheValidationLossOfTheShippedModel()
    {
        var outcome = await PoolaiProcess.RunAsync("eval", "--model", TestModels.Shakespeare);
        Assert.AreEqual(0, outcome.ExitCode, outcome.StandardError);
        var recorded = TestModels.Registry.Get(TestModels.Shakespeare).Training!.ValLoss;
        StringAssert.StartsWith(outcome.StandardOutput, $"shakespeare-char: validation loss {recorded:F4} nats/token over 111,540 held-out characters");
    }

    [TestMethod]
    public async Task ATableIsAsWideAsItsContentWhenTheOutputIsRedirectedNotCutAt80Columns()
    {
        var outcome = await PoolaiProcess.RunAsync("libs");

        Assert.AreEqual(0, outcome.ExitCode, outcome.StandardError);
        var native = Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        var lines = outcome.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => line.TrimEnd('\r')).ToList();
        Assert.IsTrue(lines.Any(line => line.StartsWith("│ libLibTorchSharp.so │ " + native + " ", StringComparison.Ordinal)), outcome.StandardOutput);
        Assert.IsTrue(lines.All(line => line.Length == lines[0].Length), outcome.StandardOutput);
        Assert.IsTrue(lines[0].Length > native.Length + 20, outcome.StandardOutput);
    }

    [TestMethod]
    public async Task StatusShowsAJobAsATableAndWithJsonAsJsonWithoutNeedlessEscapes()
    {
        var gatewayPort = TestPorts.FreeText();
        await using var pool = await OpenJoinablePoolAsync(gatewayPort);
        var submitted = await pool.Client.SubmitAsync(JobSpec.TextGeneration(TestModels.Shakespeare, new GenerationSettings("ROMEO:", MaxTokens: 8, Seed: 4, Stop: ["'"])) with { Requester = "o'brien" });
        var job = await pool.Client.WaitAsync(submitted.Id);
        Assert.AreEqual(JobStatus.Succeeded, job.Status, job.StatusMessage);
        var environment = new Dictionary<string, string> { ["POOLAI__Cluster__GatewayPort"] = gatewayPort };

        var table = await PoolaiProcess.RunAsync(environment, "status", job.Id.ToString());
        var json = await PoolaiProcess.RunAsync(environment, "status", job.Id.ToString(), "--json");

        Assert.AreEqual(0, table.ExitCode, table.StandardError);
        var lines = table.StandardOutput.Split('\n').Select(line => line.TrimEnd()).ToList();
        CollectionAssert.Contains(lines, $"job        {job.Id}");
        CollectionAssert.Contains(lines, "status     Succeeded");
        CollectionAssert.Contains(lines, "kind       TextGeneration");
        CollectionAssert.Contains(lines, $"model      {TestModels.Shakespeare}");
        CollectionAssert.Contains(lines, "requester  o'brien");
        CollectionAssert.Contains(lines, $"created    {job.CreatedAt.UtcDateTime:yyyy-MM-dd HH:mm:ss} UTC");
        StringAssert.Contains(table.StandardOutput, $"result     8 tokens in ");
        Assert.IsTrue(lines.Any(line => line.StartsWith("│ 1 ", StringComparison.Ordinal) && line.Contains($"│ {job.Attempts[0].Worker} ", StringComparison.Ordinal) && line.Contains("│ succeeded ", StringComparison.Ordinal)), table.StandardOutput);
        Assert.AreEqual(0, json.ExitCode, json.StandardError);
        StringAssert.Contains(json.StandardOutput, "\"requester\": \"o'brien\"");
        Assert.IsFalse(json.StandardOutput.Contains("\\u", StringComparison.Ordinal), json.StandardOutput);
        var parsed = System.Text.Json.JsonDocument.Parse(json.StandardOutput).RootElement;
        Assert.AreEqual("Succeeded", parsed.GetProperty("status").GetString());
        Assert.AreEqual("'", parsed.GetProperty("spec").GetProperty("input").GetProperty("stop")[0].GetString());
        Assert.AreEqual(job.Result!.Text!.Text, parsed.GetProperty("result").GetProperty("output").GetProperty("text").GetString());
    }

    /// <summary>An embedded pool in this process on <paramref name="gatewayPort"/>, which the tool, given that port, joins as a client.</summary>
    private static Task<PoolConnection> OpenJoinablePoolAsync(string gatewayPort) => PoolConnection.OpenAsync(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
    {
        ["PoolAI:Storage:Provider"] = "process",
        ["PoolAI:Cluster:GatewayPort"] = gatewayPort,
        ["PoolAI:Cluster:SiloPort"] = TestPorts.FreeText(),
    }).Build());
}
