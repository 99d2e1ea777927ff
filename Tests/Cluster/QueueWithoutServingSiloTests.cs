using Orleans.TestingHost;
using PoolAI.Client.Sdk;
using PoolAI.Jobs;

namespace PoolAI.Tests.Cluster;

/// <summary>A cluster with only a coordinator: nothing serves the model, so jobs wait and say why.</summary>
[TestClass]
[DoNotParallelize]
public sealed class QueueWithoutServingSiloTests
{
    private static InProcessTestCluster _cluster = null!;

    [ClassInitialize]
    public static async Task Start(TestContext context)
    {
        _cluster = TestPools.Build(1, _ => TestPools.Configuration("coordinator"));
        await _cluster.DeployAsync();
    }

    [ClassCleanup]
    public static async Task Stop() => await _cluster.DisposeAsync();

    [TestMethod]
    public async Task JobNoWorkerServesSaysSoAndStaysQueued()
    {
        var pool = new PoolClient(_cluster.Client);
        var submitted = await pool.SubmitAsync(JobSpec.TextGeneration(TestModels.Shakespeare, TestModels.Settings()));
        Assert.AreEqual(JobStatus.Queued, submitted.Status);
        Assert.AreEqual($"no worker serves model {TestModels.Shakespeare}", submitted.StatusMessage);

        var later = await pool.WaitAsync(submitted.Id, TimeSpan.FromSeconds(2));
        Assert.AreEqual(JobStatus.Queued, later.Status);
        var stats = await _cluster.Client.GetGrain<IJobQueueGrain>(TestModels.Shakespeare).GetStatsAsync();
        Assert.AreEqual(0, stats.Capacity);
        Assert.AreEqual($"no worker serves model {TestModels.Shakespeare}", stats.Blocked);
        await pool.CancelAsync(submitted.Id);
    }

    [TestMethod]
    public async Task CancelWhileQueuedRemovesTheJobFromItsQueue()
    {
        var pool = new PoolClient(_cluster.Client);
        var queue = _cluster.Client.GetGrain<IJobQueueGrain>(TestModels.Shakespeare);
        var before = (await queue.GetStatsAsync()).Pending;
        var submitted = await pool.SubmitAsync(JobSpec.TextGeneration(TestModels.Shakespeare, TestModels.Settings()));
        Assert.AreEqual(before + 1, (await queue.GetStatsAsync()).Pending);

        var cancelled = await pool.CancelAsync(submitted.Id, "changed my mind");

        Assert.AreEqual(JobStatus.Cancelled, cancelled.Status);
        Assert.AreEqual("cancelled: changed my mind", cancelled.StatusMessage);
        Assert.AreEqual(0, cancelled.Attempts.Count);
        Assert.AreEqual(before, (await queue.GetStatsAsync()).Pending);
        Assert.AreEqual(JobStatus.Cancelled, (await pool.WaitAsync(submitted.Id, TimeSpan.FromSeconds(1))).Status);
    }

    [TestMethod]
    public async Task JobExpiresWhenItsTimeToLiveEndsWhileQueued()
    {
        var pool = new PoolClient(_cluster.Client);
        var spec = JobSpec.TextGeneration(TestModels.Shakespeare, TestModels.Settings()) with { TimeToLive = TimeSpan.FromMilliseconds(500) };
        var submitted = await pool.SubmitAsync(spec);
        var done = await pool.WaitAsync(submitted.Id, TimeSpan.FromSeconds(30));
        Assert.AreEqual(JobStatus.Expired, done.Status);
        StringAssert.StartsWith(done.StatusMessage, "expired: time to live ended at ");
    }
}
