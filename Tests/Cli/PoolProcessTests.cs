using System.Diagnostics;
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
        var (gateway, log) = StartPool("PoolAI.Gateway.dll", httpPort, gatewayPort);
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{httpPort}") };
            await WaitUntilHealthyAsync(http, gateway, log);

            var bad = await http.PostAsJsonAsync("/api/jobs", new { prompt = "ROMEO:", max_tokens = 0 });
            Assert.AreEqual(HttpStatusCode.BadRequest, bad.StatusCode);
            var problem = await bad.Content.ReadFromJsonAsync<JsonElement>();
            Assert.AreEqual("must be between 1 and 4096, was 0", problem.GetProperty("errors").GetProperty("max_tokens")[0].GetString());

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
            Assert.AreEqual(expected.Text, job.GetProperty("result").GetProperty("text").GetString());

            Assert.AreEqual(HttpStatusCode.NotFound, (await http.GetAsync($"/api/jobs/{Guid.NewGuid()}")).StatusCode);
            var models = await http.GetFromJsonAsync<JsonElement>("/api/models");
            Assert.AreEqual(TestModels.Shakespeare, models[0].GetProperty("id").GetString());
        }
        finally
        {
            gateway.Kill(entireProcessTree: true);
            await gateway.WaitForExitAsync();
        }
    }

    [TestMethod]
    public async Task SiloServesTheDashboardAndTheCliJoinsItsPool()
    {
        var gatewayPort = TestPorts.Free();
        var httpPort = TestPorts.Free();
        var (silo, log) = StartPool("PoolAI.Silo.dll", httpPort, gatewayPort);
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{httpPort}") };
            await WaitUntilHealthyAsync(http, silo, log, "/dashboard");
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
        finally
        {
            silo.Kill(entireProcessTree: true);
            await silo.WaitForExitAsync();
        }
    }

    /// <summary>Starts a pool executable (silo or gateway) on free ports with its own POOLAI_HOME; returns it and its combined log.</summary>
    private static (Process Process, System.Text.StringBuilder Log) StartPool(string assembly, int httpPort, int gatewayPort)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, assembly));
        start.ArgumentList.Add("--urls");
        start.ArgumentList.Add($"http://127.0.0.1:{httpPort}");
        start.Environment["POOLAI_HOME"] = Path.Combine(Path.GetTempPath(), $"poolai-proc-{Guid.NewGuid():N}");
        start.Environment["PoolAI__Cluster__GatewayPort"] = gatewayPort.ToString(System.Globalization.CultureInfo.InvariantCulture);
        start.Environment["PoolAI__Cluster__SiloPort"] = TestPorts.FreeText();
        var process = Process.Start(start)!;
        var log = new System.Text.StringBuilder();
        process.OutputDataReceived += (_, e) => { lock (log) log.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { lock (log) log.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return (process, log);
    }

    private static async Task WaitUntilHealthyAsync(HttpClient http, Process gateway, System.Text.StringBuilder log, string path = "/healthz")
    {
        var deadline = DateTime.UtcNow.AddMinutes(2);
        while (DateTime.UtcNow < deadline)
        {
            if (gateway.HasExited)
                Assert.Fail($"the process exited with {gateway.ExitCode}: {log}");
            try
            {
                if ((await http.GetAsync(path)).IsSuccessStatusCode)
                    return;
            }
            catch (HttpRequestException)
            {
                // Not listening yet: the process is still starting its silo.
            }

            await Task.Delay(200);
        }

        Assert.Fail($"the process did not answer {path} in 2 minutes: {log}");
    }

    [GeneratedRegex(@"job ([0-9a-f\-]{36})")]
    private static partial Regex JobIdPattern();
}
