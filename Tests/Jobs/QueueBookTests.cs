using PoolAI.Jobs;
using PoolAI.Storage;

namespace PoolAI.Tests.Jobs;

[TestClass]
public sealed class QueueBookTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 7, 12, 0, 0, TimeSpan.Zero);

    private static QueueBook Book(int cap = 0, params ServingSilo[] units)
    {
        var book = new QueueBook(JobQueueKeys.For(JobKind.TextGeneration, "m"), new StoragePages(), cap, TimeSpan.FromSeconds(30));
        book.Slots.Sync(units);
        return book;
    }

    private static QueuedJob Job(string requester, int priority = 0, int age = 0, JobRequirements? requirements = null) =>
        new(Guid.NewGuid(), priority, Now.AddSeconds(-age), Now.AddHours(1), Requester: requester, Requirements: requirements);

    [TestMethod]
    public void TheNextStartIsTheFirstJobInDispatchOrderThatAFreeUnitFits()
    {
        var book = Book(0, new ServingSilo("S1", 1, "w1", "cpu"));
        var cuda = Job("a", priority: 5, requirements: new JobRequirements("cuda"));
        var normal = Job("b");
        book.AddPending(cuda);
        book.AddPending(normal);

        var (job, unit) = book.NextStart(Now)!.Value;
        Assert.AreEqual(normal.JobId, job.JobId, "a job no unit fits does not block the jobs behind it");
        Assert.AreEqual("S1/w1", unit.Key);
        book.BeginStart(job, unit);
        Assert.IsNull(book.NextStart(Now), "the only slot is taken");
        Assert.AreEqual("no worker serving model m meets the job's requirements (device cuda)", book.WaitReason(cuda));
        Assert.IsTrue(book.TakeRunningChanged());
        Assert.IsTrue(book.StopRunning(job.JobId));
        Assert.IsFalse(book.StopRunning(job.JobId));
    }

    [TestMethod]
    public void ARequesterAtTheCapWaitsWhileOthersStart()
    {
        var book = Book(1, new ServingSilo("S1", 4, "w1", "cpu"));
        var first = Job("flood", age: 3);
        var second = Job("flood", age: 2);
        var other = Job("quiet", age: 1);
        foreach (var job in new[] { first, second, other })
            book.AddPending(job);

        var starts = new List<Guid>();
        while (book.NextStart(Now) is ({ } job, { } unit))
        {
            book.BeginStart(job, unit);
            starts.Add(job.JobId);
        }

        CollectionAssert.AreEqual(new[] { first.JobId, other.JobId }, starts, "the flood's second job waits for its first");
        Assert.IsFalse(book.UnderCap("flood"));
        book.StopRunning(first.JobId);
        Assert.AreEqual(second.JobId, book.NextStart(Now)!.Value.Job.JobId);
    }

    [TestMethod]
    public void WaitReasonsNameTheQueuesWork()
    {
        var job = Job("a");
        Assert.AreEqual("no worker serves model m", Book().WaitReason(job));
        var system = new QueueBook(JobQueueKeys.For(JobKind.System, "probe"), new StoragePages(), 0, TimeSpan.FromSeconds(30));
        Assert.AreEqual("no worker serves system task probe", system.WaitReason(job));
        var excluded = Book(0, new ServingSilo("S1", 1, "w1", "cpu"));
        Assert.AreEqual("every worker serving model m is excluded for this job", excluded.WaitReason(job with { ExcludedWorkers = ["w1"] }));
        Assert.IsNull(excluded.WaitReason(job));
    }
}
