using Orleans.Serialization;
using PoolAI.Jobs;
using PoolAI.Rewards;
using Microsoft.Extensions.DependencyInjection;

namespace PoolAI.Tests.Rewards;

[TestClass]
public sealed class LedgerBookTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 30, 12, 0, 0, TimeSpan.Zero);
    private static readonly RewardFormula Formula = new(new RewardOptions());

    private static CreditRequest Request(Guid job, long units = 100, double tps = 50) =>
        new(job, JobKind.TextGeneration, "shakespeare-char", 10_000_000, units, tps, "cpu", T0);

    [TestMethod]
    public void ASecondCreditForTheSameJobIsRefusedAndReturnsTheFirst()
    {
        var book = new LedgerBook("w", new LedgerState(), Formula);
        var job = Guid.NewGuid();
        var (first, added) = book.Credit(Request(job), 1.0, T0);
        Assert.IsTrue(added);
        var (second, addedAgain) = book.Credit(Request(job, units: 5000), 3.0, T0.AddSeconds(1));
        Assert.IsFalse(addedAgain);
        Assert.AreSame(first, second);
        Assert.AreEqual(1, book.State.Entries.Count);
        Assert.AreEqual(first.Total, book.State.Balance);
        Assert.AreEqual(1, book.State.Streak);
    }

    [TestMethod]
    public void AFailedVerificationCorrectsTheCreditWithANegativeEntryNamingIt()
    {
        var book = new LedgerBook("w", new LedgerState(), Formula);
        var job = Guid.NewGuid();
        var (credit, _) = book.Credit(Request(job), 1.0, T0);
        var (recorded, correction) = book.Verify(job, passed: false, "output differs", T0.AddMinutes(1));
        Assert.IsTrue(recorded);
        Assert.IsNotNull(correction);
        Assert.AreEqual(RewardEntryKind.Correction, correction.Kind);
        Assert.AreEqual(credit.Sequence, correction.Corrects);
        Assert.AreEqual(-credit.Total, correction.Total);
        Assert.AreEqual(0m, book.State.Balance);
        Assert.AreEqual(credit, book.State.Entries[0]); // nothing edited
        Assert.AreEqual(0, book.State.Streak);
        Assert.AreEqual(0.5, book.State.Quality, 1e-12);
        Assert.AreEqual(1, book.State.Suspicions.Count);
        StringAssert.Contains(book.State.Suspicions[0].Reason, "output differs");
        Assert.IsFalse(book.Verify(job, passed: false, "again", T0).Recorded);
        Assert.AreEqual(2, book.State.Entries.Count);
    }

    [TestMethod]
    public void AdminCorrectionsTakeBackAtMostWhatIsLeft()
    {
        var book = new LedgerBook("w", new LedgerState(), Formula);
        var (credit, _) = book.Credit(Request(Guid.NewGuid(), units: 21_000), 1.0, T0); // 21,000 × 0.01 / 21 = 10
        Assert.AreEqual(10m, credit.Total);
        var part = book.Correct(credit.Sequence, 4m, "duplicate prompt", T0);
        Assert.AreEqual(-4m, part.Total);
        var error = Assert.ThrowsExactly<ArgumentException>(() => book.Correct(credit.Sequence, 7m, "too much", T0));
        StringAssert.Contains(error.Message, "at most the 6");
        Assert.ThrowsExactly<ArgumentException>(() => book.Correct(part.Sequence, null, "a correction", T0));
        Assert.ThrowsExactly<ArgumentException>(() => book.Correct(99, null, "no such entry", T0));
        var rest = book.Correct(credit.Sequence, null, "the rest", T0);
        Assert.AreEqual(-6m, rest.Total);
        Assert.AreEqual(0m, book.State.Balance);
    }

    [TestMethod]
    public void FailuresResetTheStreakOncePerAttempt()
    {
        var book = new LedgerBook("w", new LedgerState(), Formula);
        for (var i = 0; i < 12; i++)
            book.Credit(Request(Guid.NewGuid()), 1.0, T0);
        var summary = book.Summary(T0);
        Assert.AreEqual(12, summary.Streak);
        Assert.AreEqual(1, summary.StreakLevel);
        Assert.AreEqual(8, summary.StreakToNextLevel);
        var job = Guid.NewGuid();
        Assert.IsTrue(book.Fail(job, 1));
        Assert.IsFalse(book.Fail(job, 1));
        Assert.IsTrue(book.Fail(job, 2));
        summary = book.Summary(T0);
        Assert.AreEqual(0, summary.Streak);
        Assert.AreEqual(12, summary.Statistics.JobsSucceeded);
        Assert.AreEqual(2, summary.Statistics.JobsFailed);
        Assert.AreEqual(12.0 / 14, summary.Statistics.SuccessRate, 1e-12);
        Assert.AreEqual(50, summary.Statistics.MeanTokensPerSecond, 1e-12);
    }

    [TestMethod]
    public void HistoryPagesNewestFirstByTime()
    {
        var book = new LedgerBook("w", new LedgerState(), Formula);
        for (var i = 0; i < 5; i++)
            book.Credit(Request(Guid.NewGuid()), 1.0, T0.AddMinutes(i));
        var first = book.History(DateTimeOffset.MaxValue, 2);
        CollectionAssert.AreEqual(new long[] { 5, 4 }, first.Entries.Select(e => e.Sequence).ToArray());
        var second = book.History(first.NextBefore!.Value, 2);
        CollectionAssert.AreEqual(new long[] { 3, 2 }, second.Entries.Select(e => e.Sequence).ToArray());
        var last = book.History(second.NextBefore!.Value, 2);
        CollectionAssert.AreEqual(new long[] { 1 }, last.Entries.Select(e => e.Sequence).ToArray());
        Assert.IsNull(last.NextBefore);
        CollectionAssert.AreEqual(new long[] { 4, 5 }, book.After(3, 10).Select(e => e.Sequence).ToArray());
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => book.History(DateTimeOffset.MaxValue, 0));
    }

    /// <summary>
    /// Random sequences of job outcomes, retries (the same job credited again), verifications and crashes (the state
    /// goes through the Orleans serializer, as it does through storage, and the last operation is repeated): every
    /// balance equals the sum of its entries, no job is credited twice, and every correction names a credit it does
    /// not exceed.
    /// </summary>
    [TestMethod]
    public void PropertyBalancesEqualTheirEntriesAndNoJobIsCreditedTwice()
    {
        var serializer = new ServiceCollection().AddSerializer(b => b.AddAssembly(typeof(LedgerState).Assembly).AddAssembly(typeof(RewardEntry).Assembly))
            .BuildServiceProvider().GetRequiredService<Serializer>();
        for (var seed = 0; seed < 200; seed++)
        {
            var random = new Random(seed);
            var workers = new[] { "a", "b", "c" };
            var states = workers.ToDictionary(w => w, _ => new LedgerState());
            var jobs = Enumerable.Range(0, 30).Select(_ => Guid.NewGuid()).ToList();
            var now = T0;
            for (var step = 0; step < 300; step++)
            {
                now = now.AddSeconds(random.Next(1, 600));
                var worker = workers[random.Next(workers.Length)];
                var book = new LedgerBook(worker, states[worker], Formula);
                var job = jobs[random.Next(jobs.Count)];
                Action operation = random.Next(6) switch
                {
                    0 or 1 => () => book.Credit(Request(job, random.Next(1, 500), random.NextDouble() * 100), 0.5 + random.NextDouble() * 2.5, now),
                    2 => () => book.Fail(job, random.Next(1, 4)),
                    3 => () => book.Verify(job, random.Next(3) > 0, "check", now),
                    4 => () =>
                    {
                        if (book.State.Entries.Where(e => e.Kind == RewardEntryKind.Credit).ToList() is { Count: > 0 } credits)
                        {
                            try
                            {
                                book.Correct(credits[random.Next(credits.Count)].Sequence, RewardFormula.Round((decimal)random.NextDouble()), "admin", now);
                            }
                            catch (ArgumentException)
                            {
                                // More than is left, or nothing: refused, nothing changed.
                            }
                        }
                    },
                    _ => () => { },
                };
                operation();
                if (random.Next(10) == 0)
                {
                    // Crash: what storage holds comes back, and the interrupted call is made again.
                    states[worker] = serializer.Deserialize<LedgerState>(serializer.SerializeToArray(states[worker]))!;
                    book = new LedgerBook(worker, states[worker], Formula);
                    book.Credit(Request(job), 1.0, now);
                }
            }

            foreach (var (worker, state) in states)
            {
                Assert.AreEqual(state.Entries.Sum(e => e.Total), state.Balance, $"seed {seed}, worker {worker}: balance");
                var credits = state.Entries.Where(e => e.Kind == RewardEntryKind.Credit).ToList();
                Assert.AreEqual(credits.Count, credits.Select(e => e.JobId).Distinct().Count(), $"seed {seed}, worker {worker}: a job credited twice");
                CollectionAssert.AreEqual(Enumerable.Range(1, state.Entries.Count).Select(i => (long)i).ToArray(), state.Entries.Select(e => e.Sequence).ToArray());
                foreach (var credit in credits)
                {
                    var corrections = state.Entries.Where(e => e.Corrects == credit.Sequence).Sum(e => e.Total);
                    Assert.IsTrue(corrections <= 0 && credit.Total + corrections >= 0, $"seed {seed}: entry {credit.Sequence} over-corrected");
                }

                Assert.IsTrue(state.Entries.Where(e => e.Kind == RewardEntryKind.Correction).All(e => credits.Any(c => c.Sequence == e.Corrects)));
            }
        }
    }
}
