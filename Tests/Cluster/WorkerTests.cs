using PoolAI.Jobs;
using PoolAI.Workers;

namespace PoolAI.Tests.Cluster;

[TestClass]
public sealed class WorkerTests
{
    [TestMethod]
    public async Task ServingSiloRegistersItsWorkerAndCountsItsJobs()
    {
        var cluster = await SharedPool.ClusterAsync();
        var worker = cluster.Client.GetGrain<IWorkerGrain>(SharedPool.WorkerId);
        var before = await worker.GetAsync();
        Assert.AreEqual(WorkerStatus.Active, before.Status);
        Assert.IsNotNull(before.Capabilities);
        CollectionAssert.AreEqual(new[] { TestModels.Shakespeare }, before.Capabilities.Models.ToArray());
        Assert.AreEqual(2, before.Capabilities.Slots);
        Assert.AreEqual("cpu", before.Capabilities.Device);
        Assert.AreEqual(cluster.Silos[0].SiloAddress.ToString(), before.Silo);

        var job = await new Client.Sdk.PoolClient(cluster.Client).GenerateAsync(TestModels.Shakespeare, TestModels.Settings(maxTokens: 25));
        Assert.AreEqual(JobStatus.Succeeded, job.Status);

        // The inference grain records the job with its worker before it returns the result.
        var after = await worker.GetAsync();
        Assert.IsTrue(after.JobsSucceeded > before.JobsSucceeded);
        Assert.IsTrue(after.TokensGenerated >= before.TokensGenerated + 25);
        Assert.IsTrue(after.TokensPerSecond > 0);
    }
}
