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
        var stats = await _cluster.Client.GetGrain<IJobQueueGrain>(JobQueueKeys.For(JobKind.TextGeneration, TestModels.Shakespeare)).GetStatsAsync();
        Assert.AreEqual(0, stats.Capacity);
        Assert.AreEqual($"no worker serves model {TestModels.Shakespeare}", stats.Blocked);
        await pool.CancelAsync(submitted.Id);
    }

    [TestMethod]
    public async Task CancelWhileQueuedRemovesTheJobFromItsQueue()
    {
        var pool = new PoolClient(_cluster.Client);
        var queue = _cluster.Client.GetGrain<IJobQueueGrain>(JobQueueKeys.For(JobKind.TextGeneration, TestModels.Shakespeare));
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

    /// <summary>
    /// A backlog spread over several storage pages: waiting jobs are parked (their activations go, their entries stay),
    /// and when the queue itself is deactivated it reads every page back and holds every job again.
    /// </summary>
    [TestMethod]
    public async Task BacklogIsParkedAndSurvivesTheQueueDeactivating()
    {
        var pool = new PoolClient(_cluster.Client);
        var queue = _cluster.Client.GetGrain<IJobQueueGrain>(JobQueueKeys.For(JobKind.System, SystemTasks.Noop));
        const int jobs = 2 * PoolAI.Storage.StoragePages.DefaultPageSize + 100;
        var ids = new List<Guid>(jobs);
        for (var i = 0; i < jobs; i += 100)
            ids.AddRange((await Task.WhenAll(Enumerable.Range(0, Math.Min(100, jobs - i)).Select(_ => pool.SubmitAsync(JobSpec.Noop("backlog"))))).Select(v => v.Id));
        Assert.AreEqual(jobs, (await queue.GetStatsAsync()).Pending);

        var management = _cluster.Client.GetGrain<IManagementGrain>(0);
        async Task<int> JobActivationsAsync() =>
            (await management.GetSimpleGrainStatistics()).Where(s => s.GrainType.Contains(nameof(JobGrain), StringComparison.Ordinal)).Sum(s => s.ActivationCount);
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (await JobActivationsAsync() > jobs / 10 && DateTime.UtcNow < deadline)
            await Task.Delay(250);
        Assert.IsTrue(await JobActivationsAsync() <= jobs / 10, $"{await JobActivationsAsync()} of {jobs} waiting jobs are still active");

        await management.ForceActivationCollection(TimeSpan.Zero);
        var statistics = await management.GetSimpleGrainStatistics();
        Assert.AreEqual(0, statistics.Where(s => s.GrainType.Contains(nameof(JobQueueGrain), StringComparison.Ordinal)).Sum(s => s.ActivationCount), "the queue was deactivated");
        Assert.AreEqual(0, statistics.Where(s => s.GrainType.Contains(nameof(JobIndexGrain), StringComparison.Ordinal)).Sum(s => s.ActivationCount), "the index was deactivated");
        var stats = await queue.GetStatsAsync();
        Assert.AreEqual(jobs, stats.Pending, "the queue read back from its pages");

        // The requester's index, stored in pages too, lists every job again.
        var index = _cluster.Client.GetGrain<IJobIndexGrain>("backlog");
        var listed = new HashSet<Guid>();
        DateTimeOffset? before = null;
        Guid? beforeJob = null;
        var count = 0;
        do
        {
            var page = await index.ListAsync(new JobQuery(Before: before, Limit: JobQuery.MaxLimit, BeforeJob: beforeJob));
            listed.UnionWith(page.Items.Select(e => e.JobId));
            count += page.Items.Count;
            (before, beforeJob) = (page.NextBefore, page.NextBeforeJob);
        }
        while (before is not null);
        Assert.AreEqual(jobs, count, "no job listed twice");
        CollectionAssert.AreEquivalent(ids, listed.ToList(), "the index read back from its pages");
        var sample = await pool.GetAsync(ids[^1]);
        Assert.AreEqual(JobStatus.Queued, sample.Status);
        StringAssert.StartsWith(sample.StatusMessage, "no worker serves system task noop");
    }
}
