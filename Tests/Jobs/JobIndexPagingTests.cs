using PoolAI.Jobs;
using PoolAI.Tests.Cluster;

namespace PoolAI.Tests.Jobs;

/// <summary>Paging a requester's job index when several jobs were created in the same tick (a burst of submits).</summary>
[TestClass]
public sealed class JobIndexPagingTests
{
    [TestMethod]
    public async Task JobsCreatedAtTheSameTimeAreListedOnceEachAcrossPageBoundaries()
    {
        var cluster = await SharedPool.ClusterAsync();
        var index = cluster.Client.GetGrain<IJobIndexGrain>($"paging-{Guid.NewGuid():N}");
        var created = new DateTimeOffset(2026, 12, 1, 5, 0, 0, TimeSpan.Zero);
        var ids = Enumerable.Range(0, 7).Select(_ => Guid.NewGuid()).ToList();
        foreach (var (id, i) in ids.Select((id, i) => (id, i)))
            await index.RecordAsync(new JobIndexEntry(id, JobKind.System, "noop", JobStatus.Succeeded, i < 5 ? created : created.AddSeconds(-1), created));
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while ((await index.ListAsync(new JobQuery(Limit: JobQuery.MaxLimit))).Items.Count < ids.Count)
        {
            Assert.IsTrue(DateTime.UtcNow < deadline, "the one-way reports did not arrive");
            await Task.Delay(50);
        }

        var listed = new List<Guid>();
        DateTimeOffset? before = null;
        Guid? beforeJob = null;
        do
        {
            var page = await index.ListAsync(new JobQuery(Before: before, Limit: 2, BeforeJob: beforeJob));
            listed.AddRange(page.Items.Select(e => e.JobId));
            (before, beforeJob) = (page.NextBefore, page.NextBeforeJob);
        }
        while (before is not null);

        var expected = ids.Take(5).OrderByDescending(id => id).Concat(ids.Skip(5).OrderByDescending(id => id)).ToList();
        CollectionAssert.AreEqual(expected, listed, "newest first, ties by id, every job once");

        // A bare time (no job id) still means "created before it".
        var older = await index.ListAsync(new JobQuery(Before: created, Limit: JobQuery.MaxLimit));
        CollectionAssert.AreEquivalent(ids.Skip(5).ToList(), older.Items.Select(e => e.JobId).ToList());
    }
}
