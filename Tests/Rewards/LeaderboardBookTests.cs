using PoolAI.Jobs;
using PoolAI.Rewards;

namespace PoolAI.Tests.Rewards;

[TestClass]
public sealed class LeaderboardBookTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 30, 12, 0, 0, TimeSpan.Zero);

    private static RewardEntry Entry(string worker, long sequence, decimal total, DateTimeOffset at, RewardEntryKind kind = RewardEntryKind.Credit) =>
        new(sequence, worker, kind, Guid.NewGuid(), JobKind.TextGeneration, "m", 10, total, 1, 1, 0, total, at);

    [TestMethod]
    public void EntriesCountOnceInSequenceAndGapsAreReported()
    {
        var book = new LeaderboardBook(new LeaderboardState());
        var first = Entry("a", 1, 2m, Now);
        Assert.IsNull(book.Missing(first));
        Assert.IsTrue(book.Apply(first, Now));
        Assert.IsFalse(book.Apply(first, Now)); // a repeat
        var third = Entry("a", 3, 5m, Now);
        Assert.AreEqual(1L, book.Missing(third));
        Assert.IsFalse(book.Apply(third, Now));
        Assert.IsTrue(book.Apply(Entry("a", 2, 1m, Now), Now));
        Assert.IsTrue(book.Apply(third, Now));
        Assert.AreEqual(8m, book.Top(LeaderboardPeriod.All, 10, Now).Single().Earned);
    }

    [TestMethod]
    public void PeriodsCountTheirDaysAndCorrectionsSubtract()
    {
        var book = new LeaderboardBook(new LeaderboardState());
        book.Apply(Entry("a", 1, 10m, Now.AddDays(-20)), Now);
        book.Apply(Entry("a", 2, 1m, Now), Now);
        book.Apply(Entry("b", 1, 3m, Now.AddDays(-3)), Now);
        book.Apply(Entry("b", 2, 2m, Now), Now);
        book.Apply(Entry("b", 3, -1m, Now, RewardEntryKind.Correction), Now);
        book.Apply(Entry("c", 1, 100m, Now.AddDays(-40)), Now);

        var day = book.Top(LeaderboardPeriod.Day, 10, Now);
        CollectionAssert.AreEqual(new[] { "a", "b" }, day.Select(r => r.Worker).ToArray()); // 1 credit and 1 job each: by worker id
        Assert.AreEqual(1m, day[1].Earned);
        var week = book.Top(LeaderboardPeriod.Week, 10, Now);
        Assert.AreEqual(("b", 4m, 2), (week[0].Worker, week[0].Earned, week[0].Jobs));
        var month = book.Top(LeaderboardPeriod.Month, 10, Now);
        Assert.AreEqual(("a", 11m), (month[0].Worker, month[0].Earned));
        var all = book.Top(LeaderboardPeriod.All, 2, Now);
        Assert.AreEqual(2, all.Count);
        Assert.AreEqual(("c", 100m, 1), (all[0].Worker, all[0].Earned, all[0].Rank));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => book.Top(LeaderboardPeriod.All, 0, Now));
    }
}
