using PoolAI.Storage;

namespace PoolAI.Tests.Storage;

[TestClass]
public sealed class StoragePagesTests
{
    /// <summary>
    /// Over random adds and removes, storing the dirty pages after each step leaves storage holding exactly the waiting
    /// jobs, each on one page; reading the stored pages back gives the same placement; page ids stay few.
    /// </summary>
    [TestMethod]
    public void StoringDirtyPagesKeepsStorageEqualToTheWaitingJobs()
    {
        for (var seed = 0; seed < 20; seed++)
        {
            var random = new Random(seed);
            var pages = new StoragePages(pageSize: 8);
            var stored = new Dictionary<int, HashSet<Guid>>();
            var waiting = new List<Guid>();
            var mostInUse = 0;
            for (var step = 0; step < 2_000; step++)
            {
                var changes = random.Next(1, 12);
                for (var c = 0; c < changes; c++)
                {
                    if (waiting.Count > 0 && random.NextDouble() < 0.48)
                    {
                        // Mostly the oldest, as dispatch takes them; sometimes any (priorities, cancels).
                        var at = random.NextDouble() < 0.8 ? 0 : random.Next(waiting.Count);
                        pages.Remove(waiting[at]);
                        waiting.RemoveAt(at);
                    }
                    else
                    {
                        var id = Guid.NewGuid();
                        pages.Add(id);
                        waiting.Add(id);
                    }

                    mostInUse = Math.Max(mostInUse, Enumerable.Range(0, pages.PageCount).Count(p => pages.Members(p).Count > 0));
                }

                foreach (var page in pages.TakeDirty())
                    stored[page] = [.. pages.Members(page)];

                var all = stored.Values.SelectMany(p => p).ToList();
                Assert.AreEqual(waiting.Count, all.Count, $"seed {seed} step {step}: a job stored twice or missing");
                CollectionAssert.AreEquivalent(waiting, all, $"seed {seed} step {step}");
                // A new id is taken only when every lower id holds jobs (or is the tail), so ids never outnumber the pages once in use.
                Assert.IsTrue(pages.PageCount <= mostInUse + 1, $"seed {seed}: {pages.PageCount} page ids, at most {mostInUse} pages ever in use");
            }

            var recovered = new StoragePages(pageSize: 8);
            recovered.Reserve(pages.PageCount);
            foreach (var (page, jobs) in stored)
                foreach (var job in jobs)
                    Assert.IsTrue(recovered.Load(page, job));
            foreach (var job in waiting)
                Assert.AreEqual(pages.PageOf(job), recovered.PageOf(job));
        }
    }

    [TestMethod]
    public void TakingTheOldestJobsTouchesOnlyTheOldestPages()
    {
        var pages = new StoragePages();
        var jobs = Enumerable.Range(0, 10 * StoragePages.DefaultPageSize).Select(_ => Guid.NewGuid()).ToList();
        jobs.ForEach(pages.Add);
        Assert.AreEqual(10, pages.TakeDirty().Length);

        foreach (var job in jobs.Take(100))
            pages.Remove(job);
        pages.Add(Guid.NewGuid());
        CollectionAssert.AreEquivalent(new[] { 0, 10 }, pages.TakeDirty(), "the first page and the new tail");
    }

    [TestMethod]
    public void EmptiedPagesAreReusedLowestFirst()
    {
        var pages = new StoragePages(pageSize: 2);
        var jobs = Enumerable.Range(0, 6).Select(_ => Guid.NewGuid()).ToList();
        jobs.ForEach(pages.Add);
        Assert.AreEqual(3, pages.PageCount);
        pages.Remove(jobs[0]);
        pages.Remove(jobs[1]);
        pages.Remove(jobs[2]);
        pages.Remove(jobs[3]);

        var next = Guid.NewGuid();
        pages.Add(Guid.NewGuid()); // the tail (page 2) has had its two jobs: a new tail is taken
        Assert.AreEqual(3, pages.PageCount, "an emptied page was reused, not a new id");
        pages.Add(next);
        Assert.AreEqual(0, pages.PageOf(next));
    }

    [TestMethod]
    public void ReadingAJobFromTwoPagesKeepsOneAndRewritesBoth()
    {
        var pages = new StoragePages();
        var job = Guid.NewGuid();
        pages.Reserve(2);
        Assert.IsTrue(pages.Load(0, job));
        Assert.IsFalse(pages.Load(1, job));
        Assert.AreEqual(0, pages.PageOf(job));
        CollectionAssert.AreEquivalent(new[] { 0, 1 }, pages.TakeDirty());
    }

    [TestMethod]
    public void PageSizeMustBePositive() =>
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new StoragePages(0));

    [TestMethod]
    public void AChangedEntryMarksItsPageAndANewOneGoesOnTheTail()
    {
        var pages = new StoragePages(pageSize: 2);
        var (a, b, c) = (Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid());
        pages.Add(a);
        pages.Add(b);
        pages.TakeDirty();
        pages.Changed(a);
        CollectionAssert.AreEqual(new[] { 0 }, pages.TakeDirty());
        pages.Changed(c);
        Assert.AreEqual(1, pages.PageOf(c));
    }
}
