using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;
using PoolAI.Client.Sdk;
using PoolAI.Jobs;
using PoolAI.Workers;

namespace PoolAI.Tests.Cluster;

/// <summary>
/// A coordinator (Silo_0) and two miners (Silo_1 = worker <c>miner-a</c>, Silo_2 = <c>miner-b</c>), one slot each:
/// worker status gates new work, a miner stopping gracefully hands back what it cannot finish, and a miner killed
/// outright loses its jobs' leases, which puts them back in the queue for the other miner.
/// </summary>
[TestClass]
[DoNotParallelize]
public sealed class WorkerFailoverTests
{
    private static InProcessTestCluster Start(string? drainTimeout = null)
    {
        var extra = new Dictionary<string, string?>();
        if (drainTimeout is not null)
            extra["PoolAI:Miner:DrainTimeout"] = drainTimeout;
        return TestPools.Build(3, index => index switch
        {
            0 => TestPools.Configuration("coordinator"),
            1 => TestPools.Configuration("miner", slots: 1, workerId: "miner-a", extra: extra),
            _ => TestPools.Configuration("miner", slots: 1, workerId: "miner-b", extra: extra),
        });
    }

    private static ServingCapacity Capacity(InProcessTestCluster cluster) => cluster.Silos[0].ServiceProvider.GetRequiredService<ServingCapacity>();

    private static Task WaitForCapacityAsync(InProcessTestCluster cluster, int slots) => TestPools.WaitForCapacityAsync(cluster, slots);

    /// <summary>Waits for the job, which must succeed on its second attempt after a first on <paramref name="firstSilo"/> (and, if given, finish on <paramref name="finalSilo"/>).</summary>
    private static async Task<JobView> SucceededOnSecondAttemptAsync(PoolClient pool, Guid id, string firstSilo, string? finalSilo = null)
    {
        var done = await pool.WaitAsync(id, TimeSpan.FromMinutes(2));
        Assert.AreEqual(JobStatus.Succeeded, done.Status, done.StatusMessage);
        if (finalSilo is not null)
            Assert.AreEqual(finalSilo, done.Result!.Silo);
        Assert.AreEqual(2, done.Attempts.Count);
        Assert.AreEqual(firstSilo, done.Attempts[0].Silo);
        return done;
    }

    private static async Task<JobView> WaitForStatusAsync(PoolClient pool, Guid id, JobStatus status, Func<JobView, bool>? also = null)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            var view = await pool.GetAsync(id);
            if (view.Status == status && (also is null || also(view)))
                return view;
            Assert.IsTrue(DateTime.UtcNow < deadline, $"job stayed {view.Status}: {view.StatusMessage}");
            await Task.Delay(50);
        }
    }

    /// <summary>Starts a long job while miner B is paused, so that it runs on miner A, then puts B back in service.</summary>
    private static async Task<(string SiloA, string SiloB, JobView Job)> RunLongJobOnMinerAAsync(InProcessTestCluster cluster, PoolClient pool, long seed)
    {
        await cluster.Client.GetGrain<IWorkerGrain>("miner-b").SetStatusAsync(WorkerStatus.Paused);
        await WaitForCapacityAsync(cluster, 1);
        // The longest a job may be (about a second on the native decoder), so it still runs when the test stops its miner.
        var job = await pool.SubmitAsync(JobSpec.TextGeneration(TestModels.Shakespeare, TestModels.Settings(maxTokens: 4000, seed: seed)));
        await WaitForStatusAsync(pool, job.Id, JobStatus.Running, v => v.Progress is { Step: > 0 });
        await cluster.Client.GetGrain<IWorkerGrain>("miner-b").SetStatusAsync(WorkerStatus.Active);
        return (cluster.Silos[1].SiloAddress.ToString(), cluster.Silos[2].SiloAddress.ToString(), job);
    }

    [TestMethod]
    public async Task PausedMaintenanceAndBannedWorkersGetNoNewWork()
    {
        await using var cluster = Start();
        await cluster.DeployAsync();
        var pool = new PoolClient(cluster.Client);
        var minerA = cluster.Client.GetGrain<IWorkerGrain>("miner-a");
        var minerB = cluster.Client.GetGrain<IWorkerGrain>("miner-b");
        var siloB = cluster.Silos[2].SiloAddress.ToString();
        await WaitForCapacityAsync(cluster, 2);

        var paused = await minerA.SetStatusAsync(WorkerStatus.Paused, "too many suspicions");
        Assert.AreEqual("too many suspicions", paused.StatusReason);
        await WaitForCapacityAsync(cluster, 1);
        var jobs = await Task.WhenAll(Enumerable.Range(0, 6).Select(i => pool.GenerateAsync(TestModels.Shakespeare, TestModels.Settings(maxTokens: 6, seed: i))));
        Assert.IsTrue(jobs.All(j => j.Status == JobStatus.Succeeded), string.Join("; ", jobs.Select(j => j.StatusMessage)));
        CollectionAssert.AreEqual(new[] { siloB }, jobs.Select(j => j.Result!.Silo).Distinct().ToArray());

        // With both workers out of service a job waits and says why.
        await minerB.SetStatusAsync(WorkerStatus.Maintenance, "disk swap");
        await minerA.SetStatusAsync(WorkerStatus.Banned, "altered output");
        await WaitForCapacityAsync(cluster, 0);
        var waiting = await pool.SubmitAsync(JobSpec.TextGeneration(TestModels.Shakespeare, TestModels.Settings(maxTokens: 6)));
        Assert.AreEqual(JobStatus.Queued, waiting.Status);
        StringAssert.Contains(waiting.StatusMessage, $"no worker serves model {TestModels.Shakespeare}");
        await Task.Delay(1500);
        Assert.AreEqual(JobStatus.Queued, (await pool.GetAsync(waiting.Id)).Status);

        // Back in service, the waiting job runs there at once.
        await minerB.SetStatusAsync(WorkerStatus.Active);
        var done = await pool.WaitAsync(waiting.Id, TimeSpan.FromSeconds(60));
        Assert.AreEqual(JobStatus.Succeeded, done.Status, done.StatusMessage);
        Assert.AreEqual(siloB, done.Result!.Silo);
        Assert.AreEqual(WorkerStatus.Banned, (await minerA.GetAsync()).Status);
    }

    [TestMethod]
    public async Task MinerStoppingGracefullyHandsBackItsJobWithoutLosingAnAttempt()
    {
        await using var cluster = Start(drainTimeout: "00:00:00");
        await cluster.DeployAsync();
        var pool = new PoolClient(cluster.Client);
        var (siloA, siloB, job) = await RunLongJobOnMinerAAsync(cluster, pool, seed: 3);
        await cluster.StopSiloAsync(cluster.Silos[1]);

        var done = await SucceededOnSecondAttemptAsync(pool, job.Id, siloA, siloB);
        Assert.IsTrue(done.Attempts[0].HandedBack, done.Attempts[0].Outcome);
        StringAssert.Contains(done.Attempts[0].Outcome, "handed back");
        Assert.AreEqual(WorkerStatus.Offline, (await cluster.Client.GetGrain<IWorkerGrain>("miner-a").GetAsync()).Status);
    }

    /// <summary>
    /// A stopping silo tells the job it hands back before answering, because its answer may be lost as it stops: the
    /// message alone requeues the job without counting the attempt, even though the generation call never answers it.
    /// </summary>
    [TestMethod]
    public async Task HandBackMessageAloneRequeuesTheJobWithoutCountingTheAttempt()
    {
        await using var cluster = Start();
        await cluster.DeployAsync();
        var pool = new PoolClient(cluster.Client);
        var (siloA, _, job) = await RunLongJobOnMinerAAsync(cluster, pool, seed: 5);
        var sink = cluster.Client.GetGrain<IJobGrain>(job.Id).AsReference<PoolAI.Execution.IExecutionSink>();
        await sink.HandBackAsync(attempt: 2, siloA); // not the current attempt: ignored
        Assert.AreEqual(1, (await pool.GetAsync(job.Id)).Attempts.Count);

        await sink.HandBackAsync(attempt: 1, siloA);
        var done = await SucceededOnSecondAttemptAsync(pool, job.Id, siloA);
        Assert.IsTrue(done.Attempts[0].HandedBack, done.Attempts[0].Outcome);
        StringAssert.Contains(done.Attempts[0].Outcome, "handed back");
        Assert.IsFalse(done.Attempts[1].HandedBack);
    }

    [TestMethod]
    public async Task JobsOfAKilledMinerLoseTheirLeaseAndFinishOnTheOtherMiner()
    {
        await using var cluster = Start();
        await cluster.DeployAsync();
        var pool = new PoolClient(cluster.Client);
        var (siloA, siloB, job) = await RunLongJobOnMinerAAsync(cluster, pool, seed: 4);
        await cluster.KillSiloAsync(cluster.Silos[1]);

        var done = await SucceededOnSecondAttemptAsync(pool, job.Id, siloA, siloB);
        Assert.IsFalse(done.Attempts[0].HandedBack);
        // Orleans reports the broken connection at once; a miner that hangs instead is caught by its lease (process tests).
        Assert.IsTrue(done.Attempts[0].Outcome!.StartsWith("silo lost", StringComparison.Ordinal) || done.Attempts[0].Outcome!.StartsWith("lease expired", StringComparison.Ordinal), done.Attempts[0].Outcome);
    }
}
