using PoolAI.Client.Sdk;
using PoolAI.Jobs;

namespace PoolAI.Tests.Cluster;

/// <summary>
/// The queue's running audit (<see cref="JobOptions.RunningAudit"/>, 1 s here): a slot the queue counts as taken by a
/// job that has in fact finished (its release was lost in a crash), or by a job that does not exist, is given back
/// within two periods, and the job waiting for it runs. One all-in-one silo with one slot. The lost release is made by
/// admitting the job to the queue again after it finished, which is what the queue holds after a crash between a
/// job's stored success and its release.
/// </summary>
[TestClass]
public sealed class RunningAuditTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(1);

    [TestMethod]
    public async Task ASlotHeldByAFinishedOrMissingJobIsGivenBackAndTheWaitingJobRuns()
    {
        await using var cluster = TestPools.Build(1, _ => TestPools.Configuration("all-in-one", slots: 1, storage: "process", extra: new Dictionary<string, string?>
        {
            ["PoolAI:Jobs:RunningAudit"] = "00:00:01",
        }));
        await cluster.DeployAsync();
        await TestPools.WaitForCapacityAsync(cluster, 1);
        var pool = new PoolClient(cluster.Client);
        var queue = cluster.Client.GetGrain<IJobQueueGrain>(JobQueueKeys.For(JobKind.TextGeneration, TestModels.Shakespeare));

        var finished = await pool.WaitAsync((await pool.SubmitAsync(JobSpec.TextGeneration(TestModels.Shakespeare, TestModels.Settings(maxTokens: 5, seed: 1)))).Id, Patience);
        Assert.AreEqual(JobStatus.Succeeded, finished.Status, finished.StatusMessage);

        foreach (var (holder, what, seed) in new[] { (finished.Id, "a finished job", 2), (Guid.NewGuid(), "a job that does not exist", 3) })
        {
            var admission = await queue.AdmitAsync(new QueuedJob(holder, 0, DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddHours(1), Requester: finished.Spec.Requester));
            Assert.IsNotNull(admission.StartOn, $"{what} takes the free slot");
            Assert.AreEqual(1, (await queue.GetStatsAsync()).Running);

            var waiting = await pool.SubmitAsync(JobSpec.TextGeneration(TestModels.Shakespeare, TestModels.Settings(maxTokens: 5, seed: seed)));
            Assert.AreEqual(JobStatus.Queued, waiting.Status, $"the only slot is held by {what}: the job waits");

            var done = await pool.WaitAsync(waiting.Id, Patience);
            Assert.AreEqual(JobStatus.Succeeded, done.Status, $"{what}: {done.StatusMessage}");
            var stats = await queue.GetStatsAsync();
            Assert.AreEqual(0, stats.Running, $"{what}: the slot is free again");
            Assert.AreEqual(0, stats.Pending);
        }
    }
}
