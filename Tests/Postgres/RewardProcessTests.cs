using System.Globalization;
using Microsoft.Extensions.Configuration;
using PoolAI.Benchmarks.Failover;
using PoolAI.Client.Sdk;
using PoolAI.Jobs;
using PoolAI.Rewards;

namespace PoolAI.Tests.Postgres;

/// <summary>A coordinator crash between a job's completion and its credit, with real processes on PostgreSQL.</summary>
[TestClass]
[DoNotParallelize]
public sealed class RewardProcessTests
{
    /// <summary>
    /// The coordinator stores the job's success, then (PoolAI:Rewards:CreditDelay) waits before crediting; it is
    /// SIGKILLed in that window and started again without the delay. Afterwards the job is still succeeded with the same
    /// result, and the miner's ledger holds exactly one credit for it — not zero, not two — and its balance is the sum
    /// of its entries.
    /// </summary>
    [TestMethod]
    public async Task CoordinatorKilledBetweenCompletionAndCreditCreditsExactlyOnce()
    {
        var worker = $"miner-{Guid.NewGuid():N}"[..16];
        var cluster = await ProcessCluster.CreateAsync(new Dictionary<string, string> { ["PoolAI__Rewards__VerificationShare"] = "0" });
        var coordinatorEnvironment = cluster.CoordinatorEnvironment;
        var client = cluster.Client;

        var coordinator = PoolProcess.StartSilo("coordinator", new Dictionary<string, string>(coordinatorEnvironment) { ["PoolAI__Rewards__CreditDelay"] = "00:10:00" });
        PoolProcess? miner = null;
        PoolProcess? restarted = null;
        try
        {
            await coordinator.WaitForLogAsync("Application started", TimeSpan.FromMinutes(2));
            miner = PoolProcess.StartSilo("miner", cluster.Miner(new Dictionary<string, string> { ["PoolAI__Worker__WorkerId"] = worker }));
            await miner.WaitForLogAsync("registered: serves", TimeSpan.FromMinutes(2));

            JobView done;
            await using (var connection = await PoolConnection.OpenAsync(client))
            {
                // Watchers hear of the success after the credit; the stored status reads Succeeded before it.
                var submitted = await connection.Client.SubmitAsync(JobSpec.TextGeneration(TestModels.Shakespeare, TestModels.Settings(maxTokens: 40, seed: 77)));
                await coordinator.WaitForLogAsync($"Job {submitted.Id}: credit to worker {worker} waits", TimeSpan.FromMinutes(1));
                done = await connection.Client.GetAsync(submitted.Id);
                Assert.AreEqual(JobStatus.Succeeded, done.Status, done.StatusMessage);
                Assert.AreEqual(0, (await connection.Client.GetRewardsAsync(worker)).Entries, "credited before the kill");
            }

            coordinator.KillHard();
            restarted = PoolProcess.StartSilo("coordinator", coordinatorEnvironment);
            await restarted.WaitForLogAsync("Application started", TimeSpan.FromMinutes(2));

            await using var again = await PoolConnection.OpenAsync(client);
            var deadline = DateTime.UtcNow.AddMinutes(2);
            IReadOnlyList<RewardEntry> entries;
            while ((entries = (await again.Client.GetRewardHistoryAsync(worker, limit: 1000)).Entries).Count == 0)
            {
                Assert.IsTrue(DateTime.UtcNow < deadline, "the credit was lost with the coordinator");
                await Task.Delay(250);
            }

            await Task.Delay(TimeSpan.FromSeconds(3)); // a second credit, if one were coming
            entries = (await again.Client.GetRewardHistoryAsync(worker, limit: 1000)).Entries;
            var credit = entries.Single();
            Assert.AreEqual(done.Id, credit.JobId);
            Assert.AreEqual(done.Result!.Text!.TokensGenerated, credit.WorkUnits);
            var summary = await again.Client.GetRewardsAsync(worker);
            Assert.AreEqual(credit.Total, summary.Balance);
            var reloaded = await again.Client.GetAsync(done.Id);
            Assert.AreEqual(JobStatus.Succeeded, reloaded.Status);
            Assert.AreEqual(done.Result, reloaded.Result);
        }
        finally
        {
            restarted?.Dispose();
            miner?.Dispose();
            coordinator.Dispose();
        }
    }
}
