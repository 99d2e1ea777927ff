using PoolAI.Client.Sdk;
using PoolAI.Inference;
using PoolAI.Jobs;
using PoolAI.Rewards;
using PoolAI.Workers;

namespace PoolAI.Tests.Rewards;

/// <summary>Rewards on real clusters: credits for real jobs, nothing for cancelled ones, the leaderboard from the stream, and a cheating miner caught.</summary>
[TestClass]
public sealed class RewardClusterTests
{
    [TestMethod]
    public async Task ASucceededJobIsCreditedOnceToItsWorkerAndReachesTheLeaderboard()
    {
        var pool = await SharedPool.ClientAsync();
        var job = await pool.GenerateAsync(TestModels.Shakespeare, TestModels.Settings(maxTokens: 24, seed: 31));
        Assert.AreEqual(JobStatus.Succeeded, job.Status, job.StatusMessage);
        Assert.AreEqual(SharedPool.WorkerId, job.Attempts[^1].Worker);
        Assert.AreEqual("cpu", job.Attempts[^1].Device);

        var entries = await EntriesOfAsync(pool, SharedPool.WorkerId, job.Id);
        var credit = entries.Single();
        Assert.AreEqual(RewardEntryKind.Credit, credit.Kind);
        Assert.AreEqual(job.Result!.Text!.TokensGenerated, credit.WorkUnits);
        Assert.AreEqual(job.Result.WorkUnits, credit.WorkUnits);
        Assert.IsTrue(credit.Total > 0);
        Assert.AreEqual(job.Result.UnitsPerSecond * job.Result.Concurrency, credit.TokensPerSecond, 1e-9);
        Assert.AreEqual(job.Result.SiloUnitsPerSecond, credit.TokensPerSecond, 1e-9);

        var summary = await pool.GetRewardsAsync(SharedPool.WorkerId);
        var all = await pool.GetRewardHistoryAsync(SharedPool.WorkerId, limit: 1000);
        Assert.AreEqual(all.Entries.Sum(e => e.Total), summary.Balance);
        Assert.IsTrue(summary.Statistics.JobsSucceeded >= 1);

        // The leaderboard is fed by the stream, not by reading ledgers on request.
        var deadline = DateTime.UtcNow.AddSeconds(30);
        LeaderboardRow? row;
        while ((row = (await pool.GetLeaderboardAsync(LeaderboardPeriod.Day, 100)).FirstOrDefault(r => r.Worker == SharedPool.WorkerId)) is null || row.Earned < summary.Balance)
        {
            Assert.IsTrue(DateTime.UtcNow < deadline, $"leaderboard did not reach the balance {summary.Balance}: {row}");
            await Task.Delay(200);
        }
    }

    [TestMethod]
    public async Task ACancelledJobPaysNothing()
    {
        var pool = await SharedPool.ClientAsync();
        var job = await pool.SubmitAsync(JobSpec.TextGeneration(TestModels.Shakespeare, TestModels.Settings(maxTokens: 4000, seed: 32)));
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while ((await pool.GetAsync(job.Id)).Status != JobStatus.Running)
        {
            Assert.IsTrue(DateTime.UtcNow < deadline, "the job did not start");
            await Task.Delay(50);
        }

        await pool.CancelAsync(job.Id, "test");
        var done = await pool.WaitAsync(job.Id, TimeSpan.FromSeconds(30));
        Assert.AreEqual(JobStatus.Cancelled, done.Status);
        await Task.Delay(500);
        Assert.AreEqual(0, (await EntriesOfAsync(pool, SharedPool.WorkerId, job.Id)).Count);
    }

    /// <summary>
    /// Coordinator and three miners, every job verified, pause at 2 suspicions. Miner A returns altered text (a grain
    /// call filter on its silo rewrites every result, as a modified miner would): whether A ran the job or checked
    /// another's, the two honest miners outvote it. A's credits are corrected, it is paused with the reasons, and the
    /// honest miners keep their pay and stay trusted.
    /// </summary>
    [TestMethod]
    public async Task AMinerReturningAlteredOutputIsCaughtByVerificationAndPaused()
    {
        var extra = new Dictionary<string, string?>
        {
            ["PoolAI:Rewards:VerificationShare"] = "1",
            ["PoolAI:Rewards:SuspicionLimit"] = "2",
            ["PoolAI:Jobs:ResultCacheTimeToLive"] = "1.00:00:00",
        };
        await using var cluster = TestPools.Build(
            4,
            index => index == 0
                ? TestPools.Configuration("coordinator", extra: extra)
                : TestPools.Configuration("miner", slots: 1, workerId: $"miner-{(char)('a' + index - 1)}", extra: extra),
            customize: (index, silo) =>
            {
                if (index == 1)
                {
                    silo.AddIncomingGrainCallFilter(async context =>
                    {
                        await context.Invoke();
                        if (context.Result is JobResult { Text: { } text } result)
                            context.Result = result with { Output = text with { Text = new string(text.Text.Reverse().ToArray()) + "!" } };
                    });
                }
            });
        await cluster.DeployAsync();
        var pool = new PoolClient(cluster.Client);
        await TestPools.WaitForCapacityAsync(cluster, 3);
        var deadline = DateTime.UtcNow.AddMinutes(2);

        var jobs = await Task.WhenAll(Enumerable.Range(0, 8).Select(i => pool.GenerateAsync(TestModels.Shakespeare, TestModels.Settings(maxTokens: 6, seed: 40 + i))));
        Assert.IsTrue(jobs.All(j => j.Status == JobStatus.Succeeded), string.Join("; ", jobs.Select(j => j.StatusMessage)));

        var cheat = cluster.Client.GetGrain<IWorkerGrain>("miner-a");
        WorkerView view;
        while ((view = await cheat.GetAsync()).Status != WorkerStatus.Paused)
        {
            Assert.IsTrue(DateTime.UtcNow < deadline, $"miner-a was not paused: {view.Status}; suspicions: {string.Join("; ", (await pool.GetRewardsAsync("miner-a")).Suspicions.Select(s => s.Reason))}");
            await Task.Delay(200);
        }

        // Paused at the second suspicion; later ones (checks already running) restate the reason with the new count.
        StringAssert.Matches(view.StatusReason, new System.Text.RegularExpressions.Regex(@"^paused after \d+ suspicions: "));
        StringAssert.Contains(view.StatusReason, "verification failed");
        var cheatRewards = await pool.GetRewardsAsync("miner-a");
        Assert.IsTrue(cheatRewards.QualityFactor < 1, cheatRewards.ToString());
        Assert.IsTrue(cheatRewards.Statistics.VerificationsFailed >= 2);
        var history = await pool.GetRewardHistoryAsync("miner-a", limit: 1000);
        var corrections = history.Entries.Where(e => e.Kind == RewardEntryKind.Correction).ToList();
        Assert.IsTrue(corrections.Count >= 2, "altered output kept its pay");
        foreach (var correction in corrections)
        {
            var corrected = history.Entries.Single(e => e.Sequence == correction.Corrects);
            Assert.AreEqual(-corrected.Total, correction.Total);
        }

        foreach (var honest in new[] { "miner-b", "miner-c" })
        {
            var rewards = await pool.GetRewardsAsync(honest);
            Assert.AreEqual(0, rewards.Suspicions.Count, $"{honest}: {string.Join("; ", rewards.Suspicions.Select(s => s.Reason))}");
            Assert.AreEqual(WorkerStatus.Active, (await cluster.Client.GetGrain<IWorkerGrain>(honest).GetAsync()).Status);
        }

        // A job whose original ran on an honest miner passed, or was decided against the cheat as checker.
        var outcomes = await Task.WhenAll(jobs.Select(j => pool.GetVerificationAsync(j.Id)));
        foreach (var (job, verification) in jobs.Zip(outcomes))
        {
            if (job.Attempts[^1].Worker == "miner-a")
                Assert.AreNotEqual(VerificationOutcome.Passed, verification.Outcome, $"job {job.Id}");
        }

        // The altered output a failed verification caught is no longer served from the result cache. The repeats run
        // once the queue no longer counts the paused cheat's slot (the pause reaches it within a second).
        await TestPools.WaitForCapacityAsync(cluster, 2);
        var caught = jobs.Where(j => j.Attempts[^1].Worker == "miner-a").ToList();
        Assert.IsTrue(caught.Count > 0, "no job ran on miner-a");
        foreach (var job in caught)
        {
            while ((await pool.GetVerificationAsync(job.Id)).Outcome == VerificationOutcome.Pending)
            {
                Assert.IsTrue(DateTime.UtcNow < deadline, $"verification of job {job.Id} stayed pending");
                await Task.Delay(200);
            }

            Assert.AreEqual(VerificationOutcome.Failed, (await pool.GetVerificationAsync(job.Id)).Outcome, $"job {job.Id}");
            var again = await pool.GenerateAsync(TestModels.Shakespeare, (GenerationSettings)job.Spec.Input!);
            Assert.AreEqual(new PoolAI.Models.TextGenerator(TestModels.ShakespeareModel).Generate((GenerationSettings)job.Spec.Input!).Text, again.Result!.Text!.Text, $"job {job.Id}");
            Assert.AreNotEqual(job.Id, again.Result.CachedFrom);
        }
    }

    private static async Task<IReadOnlyList<RewardEntry>> EntriesOfAsync(PoolClient pool, string worker, Guid jobId)
    {
        var page = await pool.GetRewardHistoryAsync(worker, limit: 1000);
        return page.Entries.Where(e => e.JobId == jobId).ToList();
    }
}
