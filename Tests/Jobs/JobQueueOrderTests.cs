using PoolAI.Jobs;

namespace PoolAI.Tests.Jobs;

[TestClass]
public sealed class JobQueueOrderTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 30, 12, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Ageing = TimeSpan.FromSeconds(30);

    private static QueuedJob Job(int priority, int secondsAgo, string requester, int id) =>
        new(new Guid(id, 0, 0, new byte[8]), priority, T0.AddSeconds(-secondsAgo), T0.AddHours(1), null, requester);

    private static List<int> Order(IEnumerable<QueuedJob> pending, Dictionary<string, int>? running = null, Dictionary<string, long>? last = null) =>
        JobQueueOrder.Ordered(pending.ToList(), running ?? [], last ?? [], T0, Ageing).Select(j => BitConverter.ToInt32(j.JobId.ToByteArray(), 0)).ToList();

    [TestMethod]
    public void HigherPriorityFirstThenOldest()
    {
        CollectionAssert.AreEqual(new[] { 3, 2, 1 }, Order([Job(0, 10, "a", 1), Job(0, 20, "a", 2), Job(5, 0, "a", 3)]));
    }

    [TestMethod]
    public void WaitingRaisesPriorityOneStepPerAgeingInterval()
    {
        Assert.AreEqual(0, JobQueueOrder.EffectivePriority(Job(0, 29, "a", 1), 5, T0, Ageing));
        Assert.AreEqual(3, JobQueueOrder.EffectivePriority(Job(0, 95, "a", 1), 5, T0, Ageing));
        Assert.AreEqual(2, JobQueueOrder.EffectivePriority(Job(0, 95, "a", 1), 2, T0, Ageing), "never above the highest waiting");
        Assert.AreEqual(0, JobQueueOrder.EffectivePriority(Job(0, 950, "a", 1), 0, T0, Ageing), "no lift among equals");
        // A low-priority job that has waited 2 intervals catches up with a fresh priority-2 job and, older, runs first.
        CollectionAssert.AreEqual(new[] { 1, 2 }, Order([Job(0, 65, "a", 1), Job(2, 0, "b", 2)]));
        CollectionAssert.AreEqual(new[] { 2, 1 }, Order([Job(0, 35, "a", 1), Job(2, 0, "b", 2)]));
    }

    [TestMethod]
    public void WithinAPriorityTheRequesterWithFewerRunningThenLeastRecentlyServedGoesFirst()
    {
        var flood = Enumerable.Range(10, 5).Select(i => Job(0, 100 - i, "flood", i)).ToList();
        var single = Job(0, 1, "single", 1);
        // The flood's jobs are older, but it has a job running: the single job goes first.
        Assert.AreEqual(1, Order([.. flood, single], running: new() { ["flood"] = 1 })[0]);
        // Nothing running on either side (one slot that just freed): the requester served least recently goes first.
        Assert.AreEqual(1, Order([.. flood, single], last: new() { ["flood"] = 7 })[0]);
        // Served more recently than the flood, it waits its turn.
        Assert.AreEqual(10, Order([.. flood, single], last: new() { ["flood"] = 7, ["single"] = 8 })[0]);
    }
}
