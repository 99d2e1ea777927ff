using PoolAI.Client.Sdk;
using PoolAI.Jobs;

namespace PoolAI.Tests.Cluster;

/// <summary>
/// Admission (<see cref="IJobQueueGrain.AdmitAsync"/>): a job that finds a free slot and nobody waiting starts in its
/// own submit, with no queue entry; one that finds every slot taken waits in the queue and starts when a slot frees.
/// One all-in-one silo with one slot.
/// </summary>
[TestClass]
public sealed class DirectAdmissionTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(2);

    private static async Task<Orleans.TestingHost.InProcessTestCluster> OneSlotPoolAsync()
    {
        var cluster = TestPools.Build(1, _ => TestPools.Configuration("all-in-one", slots: 1, storage: "process"));
        await cluster.DeployAsync();
        await TestPools.WaitForCapacityAsync(cluster, 1);
        return cluster;
    }

    [TestMethod]
    public async Task AJobThatFindsAFreeSlotStartsInItsSubmitAndTheNextWaitsForTheSlot()
    {
        await using var cluster = await OneSlotPoolAsync();
        var pool = new PoolClient(cluster.Client);
        var queue = cluster.Client.GetGrain<IJobQueueGrain>(JobQueueKeys.For(JobKind.TextGeneration, TestModels.Shakespeare));

        var first = await pool.SubmitAsync(JobSpec.TextGeneration(TestModels.Shakespeare, TestModels.Settings(maxTokens: 400, seed: 1)));
        Assert.AreNotEqual(JobStatus.Queued, first.Status, "the free slot was taken in the submit");
        Assert.AreEqual(1, first.Attempts.Count);
        var stats = await queue.GetStatsAsync();
        Assert.AreEqual(0, stats.Pending);
        Assert.AreEqual(1, stats.Running);

        var second = await pool.SubmitAsync(JobSpec.TextGeneration(TestModels.Shakespeare, TestModels.Settings(maxTokens: 5, seed: 2)));
        Assert.AreEqual(JobStatus.Queued, second.Status, "the only slot is taken: it waits");
        Assert.AreEqual(0, second.Attempts.Count);
        Assert.AreEqual(1, (await queue.GetStatsAsync()).Pending);

        var firstDone = await pool.WaitAsync(first.Id, Patience);
        var secondDone = await pool.WaitAsync(second.Id, Patience);
        Assert.AreEqual(JobStatus.Succeeded, firstDone.Status, firstDone.StatusMessage);
        Assert.AreEqual(JobStatus.Succeeded, secondDone.Status, secondDone.StatusMessage);
        Assert.IsTrue(secondDone.Attempts.Single().StartedAt >= firstDone.Attempts.Single().EndedAt, "the second started once the first freed the slot");
        stats = await queue.GetStatsAsync();
        Assert.AreEqual(0, stats.Pending);
        Assert.AreEqual(0, stats.Running);
    }

    [TestMethod]
    public async Task AJobWaitingForCapacityNoSiloOffersDoesNotStopAFittingJobFromStartingInItsSubmit()
    {
        await using var cluster = await OneSlotPoolAsync();
        var pool = new PoolClient(cluster.Client);
        var queue = cluster.Client.GetGrain<IJobQueueGrain>(JobQueueKeys.For(JobKind.TextGeneration, TestModels.Shakespeare));

        // A cuda job on a CPU-only pool waits until its time to live ends; the CPU slot stays free.
        var cuda = await pool.SubmitAsync(JobSpec.TextGeneration(TestModels.Shakespeare, TestModels.Settings(maxTokens: 5, seed: 1)) with { Requirements = new JobRequirements("cuda") });
        Assert.AreEqual(JobStatus.Queued, cuda.Status);
        StringAssert.Contains(cuda.StatusMessage, "requirements");

        var fitting = await pool.SubmitAsync(JobSpec.TextGeneration(TestModels.Shakespeare, TestModels.Settings(maxTokens: 5, seed: 2)));
        Assert.AreNotEqual(JobStatus.Queued, fitting.Status, "nothing that waits could take the free slot: the fitting job takes it in its submit");
        Assert.AreEqual(1, fitting.Attempts.Count);
        var stats = await queue.GetStatsAsync();
        Assert.AreEqual(1, stats.Pending, "the cuda job still waits");
        Assert.AreEqual(1, stats.Running);

        var done = await pool.WaitAsync(fitting.Id, Patience);
        Assert.AreEqual(JobStatus.Succeeded, done.Status, done.StatusMessage);
        Assert.AreEqual(JobStatus.Queued, (await pool.GetAsync(cuda.Id)).Status);
        Assert.AreEqual(0, (await queue.GetStatsAsync()).Running);
    }
}
