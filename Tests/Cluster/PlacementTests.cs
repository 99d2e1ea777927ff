using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;
using PoolAI.Client.Sdk;
using PoolAI.Inference;
using PoolAI.Jobs;

namespace PoolAI.Tests.Cluster;

/// <summary>Two silos: Silo_0 is a coordinator that serves nothing, Silo_1 a miner that advertises the model.</summary>
[TestClass]
[DoNotParallelize]
public sealed class PlacementTests
{
    private static InProcessTestCluster _cluster = null!;

    [ClassInitialize]
    public static async Task Start(TestContext context)
    {
        _cluster = TestPools.Build(2, index => TestPools.Configuration(index == 0 ? "coordinator" : "miner", slots: 2));
        await _cluster.DeployAsync();
    }

    [ClassCleanup]
    public static async Task Stop() => await _cluster.DisposeAsync();

    private static string MinerAddress => _cluster.Silos[1].SiloAddress.ToString();

    [TestMethod]
    public async Task EveryExecutorActivationIsOnTheSiloThatAdvertisesTheModel()
    {
        var silos = new HashSet<string>();
        for (var i = 0; i < 50; i++)
            silos.Add((await _cluster.Client.GetGrain<PoolAI.Execution.IJobExecutorGrain>(PoolAI.Execution.ExecutorKeys.For(JobKind.TextGeneration, TestModels.Shakespeare)).DescribeAsync()).Silo);
        CollectionAssert.AreEqual(new[] { MinerAddress }, silos.ToArray());
    }

    [TestMethod]
    public async Task JobsLiveOnTheCoordinatorGenerateOnTheMinerAndTheCoordinatorNeverLoadsTheModel()
    {
        var pool = new PoolClient(_cluster.Client);
        var jobs = await Task.WhenAll(Enumerable.Range(0, 12).Select(i => pool.GenerateAsync(TestModels.Shakespeare, TestModels.Settings(maxTokens: 8, seed: i))));

        var activations = await _cluster.Client.GetGrain<IManagementGrain>(0).GetSimpleGrainStatistics();
        var stateful = activations.Where(a => a.GrainType.Contains("JobGrain", StringComparison.Ordinal) || a.GrainType.Contains("JobQueueGrain", StringComparison.Ordinal) || a.GrainType.Contains("WorkerGrain", StringComparison.Ordinal)).ToList();
        Assert.IsTrue(stateful.Count >= 3, string.Join(", ", activations.Select(a => a.GrainType)));
        CollectionAssert.AreEqual(new[] { _cluster.Silos[0].SiloAddress }, stateful.Select(a => a.SiloAddress).Distinct().ToArray(), "jobs, queues and workers live on the coordinator only");

        Assert.IsTrue(jobs.All(j => j.Status == JobStatus.Succeeded), string.Join("; ", jobs.Select(j => j.StatusMessage)));
        CollectionAssert.AreEqual(new[] { MinerAddress }, jobs.Select(j => j.Result!.Silo).Distinct().ToArray());
        Assert.AreEqual(0, _cluster.Silos[0].ServiceProvider.GetRequiredService<ModelHost>().Loaded.Count);
        CollectionAssert.AreEqual(new[] { TestModels.Shakespeare }, _cluster.Silos[1].ServiceProvider.GetRequiredService<ModelHost>().Loaded.ToArray());
    }

    [TestMethod]
    public async Task QueueCapacityIsTheSlotsTheMinerDeclares()
    {
        var stats = await _cluster.Client.GetGrain<IJobQueueGrain>(JobQueueKeys.For(JobKind.TextGeneration, TestModels.Shakespeare)).GetStatsAsync();
        Assert.AreEqual(2, stats.Capacity);
    }
}
