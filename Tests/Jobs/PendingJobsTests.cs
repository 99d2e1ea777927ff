using PoolAI.Jobs;

namespace PoolAI.Tests.Jobs;

[TestClass]
public sealed class PendingJobsTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 30, 12, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Ageing = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The index's dispatch (first head that its requester's cap and the free units allow) picks the same job as
    /// sorting every waiting job by <see cref="JobQueueOrder"/> and taking the first that is allowed, over random
    /// queues and histories, while jobs start, finish, arrive and are removed.
    /// </summary>
    [TestMethod]
    public void DispatchFromBucketHeadsEqualsFullSortOverRandomQueues()
    {
        for (var seed = 0; seed < 200; seed++)
        {
            var random = new Random(seed);
            var pending = new PendingJobs();
            var all = new List<QueuedJob>();
            var running = new Dictionary<string, int>();
            var last = new Dictionary<string, long>();
            var requesters = new[] { "a", "b", "c", "d" };
            var excluded = new[] { null, new[] { "w1" }, new[] { "w2" } };
            var free = new HashSet<string> { "w1", "w2" };
            var id = 0;
            var cap = random.Next(0, 3);
            long starts = 0;

            QueuedJob NewJob() => new(
                new Guid(++id, 0, 0, new byte[8]),
                random.Next(-2, 3),
                T0.AddSeconds(-random.Next(0, 200)),
                T0.AddHours(1),
                excluded[random.Next(excluded.Length)],
                requesters[random.Next(requesters.Length)],
                random.Next(4) == 0 ? new JobRequirements("cuda") : null);

            // Free units: w1 and w2 are cpu workers, gpu a cuda one; a job fits a unit its requirements and exclusions allow.
            bool Fits(QueuedJob job) => free.Any(unit =>
                (job.Requirements is null || unit == "gpu") && (job.ExcludedWorkers is null || !job.ExcludedWorkers.Contains(unit)));

            bool Allowed(QueuedJob job) => (cap == 0 || running.GetValueOrDefault(job.Requester!) < cap) && Fits(job);

            for (var step = 0; step < 60; step++)
            {
                switch (random.Next(5))
                {
                    case 0 or 1:
                        var job = NewJob();
                        all.Add(job);
                        Assert.IsTrue(pending.Add(job));
                        Assert.IsFalse(pending.Add(job), "a job waits once");
                        break;
                    case 2 when all.Count > 0:
                        var gone = all[random.Next(all.Count)];
                        all.Remove(gone);
                        Assert.AreEqual(gone, pending.Remove(gone.JobId));
                        break;
                    case 3:
                        free = [.. new[] { "w1", "w2", "gpu" }.Where(_ => random.Next(2) == 0)];
                        var requester = requesters[random.Next(requesters.Length)];
                        running[requester] = Math.Max(0, running.GetValueOrDefault(requester) + random.Next(-1, 2));
                        break;
                    default:
                        var now = T0.AddSeconds(random.Next(0, 120));
                        var expected = JobQueueOrder.Ordered(all, running, last, now, Ageing).FirstOrDefault(Allowed);
                        var actual = pending.Heads(running, last, now, Ageing).FirstOrDefault(Allowed);
                        Assert.AreEqual(expected?.JobId, actual?.JobId, $"seed {seed} step {step}");
                        if (actual is not null)
                        {
                            all.Remove(actual);
                            pending.Remove(actual.JobId);
                            running[actual.Requester!] = running.GetValueOrDefault(actual.Requester!) + 1;
                            last[actual.Requester!] = ++starts;
                        }

                        break;
                }

                Assert.AreEqual(all.Count, pending.Count);
            }
        }
    }

    [TestMethod]
    public void SlotBookPicksTheFreestUnitThatFitsTheJob()
    {
        var book = new SlotBook();
        book.Sync([
            new ServingSilo("s1", 2, "cpu-1", "cpu", 16_000),
            new ServingSilo("s2", 4, "cpu-2", "cpu", 64_000),
            new ServingSilo("s3", 1, "gpu-1", "cuda", 32_000, 24_000),
        ]);
        Assert.AreEqual(7, book.TotalSlots);
        var any = new QueuedJob(Guid.NewGuid(), 0, T0);
        var cuda = any with { Requirements = new JobRequirements("cuda") };
        var bigMemory = any with { Requirements = new JobRequirements(MinMemoryMb: 32_000) };

        Assert.AreEqual("s2", book.Pick(any)!.Silo, "most free slots");
        Assert.AreEqual("s3", book.Pick(cuda)!.Silo);
        Assert.AreEqual("s2", book.Pick(bigMemory)!.Silo);
        Assert.AreEqual("s1", book.Pick(any with { ExcludedWorkers = ["cpu-2"] })!.Silo);

        book.Take("s3/gpu-1");
        Assert.IsNull(book.Pick(cuda), "the only cuda unit is full");
        Assert.IsNull(book.Pick(any with { Requirements = new JobRequirements(MinGpuMemoryMb: 48_000) }));
        Assert.IsTrue(book.AnyAccepts(cuda));
        Assert.IsFalse(book.AnyAccepts(any with { Requirements = new JobRequirements(MinGpuMemoryMb: 48_000) }));

        book.Take("s2/cpu-2");
        book.Take("s2/cpu-2");
        book.Take("s2/cpu-2");
        Assert.AreEqual("s1", book.Pick(any)!.Silo, "s1 has 2 free, s2 has 1");
        book.Take("s1/cpu-1");
        Assert.AreEqual("s1", book.Pick(any)!.Silo, "equal free slots (1 each): the one running fewer (s1 runs 1, s2 runs 3)");
        book.Free("s2/cpu-2");
        Assert.AreEqual("s2", book.Pick(any)!.Silo, "a freed slot counts at once");

        // Equal units take turns: whichever got a job least recently gets the next.
        var even = new SlotBook();
        even.Sync([new ServingSilo("a", 1, "wa", "cpu"), new ServingSilo("b", 1, "wb", "cpu"), new ServingSilo("c", 1, "wc", "cpu")]);
        var order = new List<string>();
        for (var i = 0; i < 6; i++)
        {
            var unit = even.Pick(any)!;
            order.Add(unit.Silo);
            even.Take(unit.Key);
            even.Free(unit.Key); // the job finishes before the next arrives
        }

        CollectionAssert.AreEqual(new[] { "a", "b", "c", "a", "b", "c" }, order);
    }
}
