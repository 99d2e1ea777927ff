using System.Globalization;
using Microsoft.Extensions.Configuration;
using PoolAI.Benchmarks.Failover;
using PoolAI.Client.Sdk;
using PoolAI.Jobs;

namespace PoolAI.Tests.Postgres;

/// <summary>
/// Crashes with real processes: miners killed with SIGKILL, a miner joining mid-run, the coordinator killed and
/// restarted on PostgreSQL, and the embedded all-in-one silo on SQLite restarted. Nothing accepted may be lost, and no
/// job may complete twice.
/// </summary>
[TestClass]
[DoNotParallelize]
public sealed class FailoverProcessTests
{
    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    public async Task ThreeHundredJobsEachSucceedOnceThoughAMinerIsKilledMidRunAndAThirdMinerJoins()
    {
        var database = await PostgresServer.CreateDatabaseAsync();
        var summary = await new FailoverScenario(database, line => TestContext.WriteLine(line)).RunAsync();
        TestContext.WriteLine(System.Text.Json.JsonSerializer.Serialize(summary));

        Assert.AreEqual(300, summary.Submitted);
        Assert.AreEqual(300, summary.Succeeded, summary.ToString());
        Assert.AreEqual(0, summary.Failed, summary.ToString());
        Assert.AreEqual(0, summary.Duplicates, summary.ToString());
        Assert.AreEqual(0, summary.Lost, summary.ToString());
        Assert.IsTrue(summary.JobsInFlightOnKilledMiner > 0, summary.ToString());
        Assert.IsTrue(summary.RetriedJobs >= summary.JobsInFlightOnKilledMiner, summary.ToString());
        Assert.IsTrue(summary.JobsOnThirdMiner > 0, summary.ToString());
    }

    [TestMethod]
    public async Task CoordinatorKilledAndRestartedKeepsEveryJobAndResultAndFinishesTheRest()
    {
        var cluster = await ProcessCluster.CreateAsync();
        var coordinatorEnvironment = cluster.CoordinatorEnvironment;
        var clientConfiguration = cluster.Client;

        var coordinator = PoolProcess.StartSilo("coordinator", coordinatorEnvironment);
        PoolProcess? miner = null;
        PoolProcess? restarted = null;
        try
        {
            await coordinator.WaitForLogAsync("Application started", TimeSpan.FromMinutes(2));
            miner = PoolProcess.StartSilo("miner", cluster.Miner(new Dictionary<string, string> { ["PoolAI__Miner__Slots"] = "2" }));
            await miner.WaitForLogAsync("registered: serves", TimeSpan.FromMinutes(2));

            List<Guid> ids;
            List<JobView> before;
            await using (var connection = await PoolConnection.OpenAsync(clientConfiguration))
            {
                // Jobs of about half a second each, so the kill finds some done and some running.
                var accepted = await Task.WhenAll(Enumerable.Range(0, 30).Select(i =>
                    connection.Client.SubmitAsync(JobSpec.TextGeneration(TestModels.Shakespeare, TestModels.Settings(maxTokens: 1000, seed: 100 + i)))));
                ids = accepted.Select(j => j.Id).ToList();
                before = await JobPolling.WaitUntilAsync(connection.Client, ids, views => views.Count(v => v.Status == JobStatus.Succeeded) >= 6 && views.Any(v => v.Status == JobStatus.Running), DateTime.UtcNow.AddMinutes(4), "some jobs to finish while others run");
            }

            coordinator.KillHard();
            restarted = PoolProcess.StartSilo("coordinator", coordinatorEnvironment);
            await restarted.WaitForLogAsync("Application started", TimeSpan.FromMinutes(2));

            await using var again = await PoolConnection.OpenAsync(clientConfiguration);
            var after = await JobPolling.WaitUntilAsync(again.Client, ids, views => views.All(v => v.Status.IsFinal()), DateTime.UtcNow.AddMinutes(4), "every job to end after the restart");

            Assert.IsTrue(after.All(v => v.Status == JobStatus.Succeeded), string.Join("; ", after.Select(v => v.StatusMessage)));
            foreach (var done in before.Where(v => v.Status == JobStatus.Succeeded))
                Assert.AreEqual(done.Result, after.Single(v => v.Id == done.Id).Result, "a result accepted before the kill changed");
            var interrupted = after.Where(v => v.Attempts.Any(a => a.Outcome?.StartsWith("interrupted", StringComparison.Ordinal) == true)).ToList();
            Assert.IsTrue(interrupted.Count > 0, "no job was running at the kill");
            Assert.IsTrue(after.All(v => v.Attempts.Count(a => a.Outcome == "succeeded") == 1));
            foreach (var view in after)
            {
                var expected = new PoolAI.Models.TextGenerator(TestModels.ShakespeareModel).Generate((GenerationSettings)view.Spec.Input!);
                Assert.AreEqual(expected.Text, view.Result!.Text!.Text, "a retried job produced other text than its seed gives");
            }
        }
        finally
        {
            restarted?.Dispose();
            miner?.Dispose();
            coordinator.Dispose();
        }
    }

    [TestMethod]
    public async Task EmbeddedAllInOneSiloOnSqliteKeepsCompletedResultsAcrossAProcessRestart()
    {
        var home = Path.Combine(Path.GetTempPath(), $"poolai-sqlite-{Guid.NewGuid():N}");
        var gatewayPort = PoolProcess.FreePort();
        var environment = new Dictionary<string, string> { ["POOLAI_HOME"] = home };
        var client = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["PoolAI:Client:Gateways"] = $"127.0.0.1:{gatewayPort}" }).Build();
        JobView done;
        using (var first = PoolProcess.Start("PoolAI.Silo.dll", PoolProcess.FreePort(), gatewayPort, environment, "--role", "all-in-one"))
        {
            await first.WaitForLogAsync("Application started", TimeSpan.FromMinutes(2));
            await using var connection = await PoolConnection.OpenAsync(client);
            done = await connection.Client.GenerateAsync(TestModels.Shakespeare, TestModels.Settings(maxTokens: 30, seed: 21));
            first.KillHard();
        }

        Assert.AreEqual(JobStatus.Succeeded, done.Status, done.StatusMessage);
        Assert.IsTrue(File.Exists(Path.Combine(home, "pool.db")));
        using var second = PoolProcess.Start("PoolAI.Silo.dll", PoolProcess.FreePort(), gatewayPort, environment, "--role", "all-in-one");
        await second.WaitForLogAsync("Application started", TimeSpan.FromMinutes(2));
        await using var reconnected = await PoolConnection.OpenAsync(client);
        var reloaded = await reconnected.Client.GetAsync(done.Id);
        Assert.AreEqual(JobStatus.Succeeded, reloaded.Status);
        Assert.AreEqual(done.Result, reloaded.Result);
        Assert.AreEqual(done.Attempts.Count, reloaded.Attempts.Count);
    }
}
