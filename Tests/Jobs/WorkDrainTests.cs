using PoolAI.Execution;

namespace PoolAI.Tests.Jobs;

[TestClass]
public sealed class WorkDrainTests
{
    [TestMethod]
    public async Task DrainWaitsForRunningGenerationsThatFinishInTime()
    {
        using var drain = new WorkDrain();
        var generation = drain.Enter("silo-a");
        var draining = drain.DrainAsync(TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(5));
        Assert.IsFalse(draining.IsCompleted);
        generation.Dispose();
        Assert.AreEqual(0, await draining);
        Assert.IsFalse(drain.HandBack.IsCancellationRequested);
    }

    [TestMethod]
    public async Task DrainHandsBackWhatIsStillRunningAfterTheTimeoutAndRefusesNewWork()
    {
        using var drain = new WorkDrain();
        var generation = drain.Enter("silo-a");
        drain.HandBack.Register(generation.Dispose); // a generation stops when it is told to hand back
        Assert.AreEqual(1, await drain.DrainAsync(TimeSpan.Zero, TimeSpan.FromSeconds(5)));
        Assert.IsTrue(drain.HandBack.IsCancellationRequested);
        Assert.AreEqual(0, drain.Running);
        var refused = Assert.ThrowsExactly<WorkHandedBackException>(() => drain.Enter("silo-a"));
        Assert.AreEqual("silo-a", refused.Silo);
    }
}
