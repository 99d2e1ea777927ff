using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;
using PoolAI.Client.Sdk;
using PoolAI.Jobs;

namespace PoolAI.Tests.Cluster;

/// <summary>A coordinator, a CPU miner and a miner that advertises a cuda device with 8 GiB of GPU memory: jobs run only where their requirements are met.</summary>
[TestClass]
[DoNotParallelize]
public sealed class RequirementsTests
{
    private static InProcessTestCluster _cluster = null!;

    [ClassInitialize]
    public static async Task Start(TestContext context)
    {
        _cluster = TestPools.Build(3, index => index switch
        {
            0 => TestPools.Configuration("coordinator"),
            1 => TestPools.Configuration("miner", slots: 2, workerId: "cpu-miner"),
            _ => TestPools.Configuration("miner", slots: 2, workerId: "cuda-miner", extra: new Dictionary<string, string?>
            {
                ["PoolAI:Miner:Device"] = "cuda",
                ["PoolAI:Miner:GpuMemoryMb"] = "8192",
            }),
        });
        await _cluster.DeployAsync();
        await TestPools.WaitForCapacityAsync(_cluster, 4);
    }

    [ClassCleanup]
    public static async Task Stop() => await _cluster.DisposeAsync();

    private static string SiloOf(int index) => _cluster.Silos[index].SiloAddress.ToString();

    [TestMethod]
    public async Task AJobThatAsksForCudaNeverRunsOnTheCpuSilo()
    {
        var pool = new PoolClient(_cluster.Client);
        var cuda = new JobRequirements("cuda");
        var jobs = await Task.WhenAll(Enumerable.Range(0, 10).Select(async i =>
        {
            var submitted = await pool.SubmitAsync(JobSpec.TextGeneration(TestModels.Shakespeare, TestModels.Settings(maxTokens: 6, seed: i)) with { Requirements = cuda });
            return await pool.WaitAsync(submitted.Id, TimeSpan.FromMinutes(2));
        }));

        Assert.IsTrue(jobs.All(j => j.Status == JobStatus.Succeeded), string.Join("; ", jobs.Select(j => j.StatusMessage)));
        CollectionAssert.AreEqual(new[] { SiloOf(2) }, jobs.SelectMany(j => j.Attempts).Select(a => a.Silo).Distinct().ToArray());
        CollectionAssert.AreEqual(new[] { "cuda" }, jobs.SelectMany(j => j.Attempts).Select(a => a.Device).Distinct().ToArray());
    }

    [TestMethod]
    public async Task AJobNoSiloCanMeetWaitsSayingWhyWithoutBlockingTheJobsBehindIt()
    {
        var pool = new PoolClient(_cluster.Client);
        var tooBig = await pool.SubmitAsync(JobSpec.Noop() with { Priority = 5, Requirements = new JobRequirements(MinGpuMemoryMb: 80_000) });
        Assert.AreEqual(JobStatus.Queued, tooBig.Status);
        Assert.AreEqual("no worker serving system task noop meets the job's requirements (80000 MiB GPU memory)", tooBig.StatusMessage);

        var behind = await pool.SubmitAsync(JobSpec.Noop());
        var done = await pool.WaitAsync(behind.Id, TimeSpan.FromSeconds(30));
        Assert.AreEqual(JobStatus.Succeeded, done.Status, "a lower-priority job that fits runs");
        Assert.AreEqual(JobStatus.Queued, (await pool.GetAsync(tooBig.Id)).Status);
        var stats = await _cluster.Client.GetGrain<IJobQueueGrain>(JobQueueKeys.For(JobKind.System, SystemTasks.Noop)).GetStatsAsync();
        Assert.AreEqual(4, stats.Capacity, "both miners serve system tasks");
        StringAssert.Contains(stats.Blocked, "requirements");
        await pool.CancelAsync(tooBig.Id);
    }

    [TestMethod]
    public async Task NoopJobsRunOnMinersThroughTheQueueAndPayNothing()
    {
        var pool = new PoolClient(_cluster.Client);
        var jobs = await Task.WhenAll(Enumerable.Range(0, 200).Select(async _ =>
        {
            var submitted = await pool.SubmitAsync(JobSpec.Noop("noop-tester"));
            return await pool.WaitAsync(submitted.Id, TimeSpan.FromSeconds(60));
        }));

        Assert.IsTrue(jobs.All(j => j.Status == JobStatus.Succeeded), string.Join("; ", jobs.Select(j => j.StatusMessage).Distinct()));
        Assert.IsTrue(jobs.All(j => j.Attempts.Count == 1));
        CollectionAssert.AreEquivalent(new[] { SiloOf(1), SiloOf(2) }, jobs.Select(j => j.Result!.Silo).Distinct().ToArray(), "work spreads over both miners");
        Assert.AreEqual(0m, (await pool.GetRewardsAsync("cpu-miner")).Balance);
        var stats = await _cluster.Client.GetGrain<IJobQueueGrain>(JobQueueKeys.For(JobKind.System, SystemTasks.Noop)).GetStatsAsync();
        Assert.AreEqual(0, stats.Pending);
        Assert.AreEqual(0, stats.Running, "every slot was released");
    }

    [TestMethod]
    public async Task RequirementsAreCheckedNamingTheField()
    {
        var pool = new PoolClient(_cluster.Client);
        var error = await Assert.ThrowsExactlyAsync<JobValidationException>(() => pool.SubmitAsync(JobSpec.Noop() with { Requirements = new JobRequirements("tpu") }));
        Assert.AreEqual("requirements.device", error.Field);
        error = await Assert.ThrowsExactlyAsync<JobValidationException>(() => pool.SubmitAsync(JobSpec.Noop() with { Requirements = new JobRequirements("cpu", MinGpuMemoryMb: 1) }));
        Assert.AreEqual("requirements.min_gpu_memory_mb", error.Field);
        error = await Assert.ThrowsExactlyAsync<JobValidationException>(() => pool.SubmitAsync(new JobSpec(JobKind.System, "format-disk")));
        Assert.AreEqual("model", error.Field);
    }
}
