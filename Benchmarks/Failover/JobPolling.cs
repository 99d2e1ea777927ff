using System.Diagnostics;
using PoolAI.Client.Sdk;
using PoolAI.Jobs;

namespace PoolAI.Benchmarks.Failover;

/// <summary>Waiting on many jobs at once, for the failover scenario and the process tests.</summary>
public static class JobPolling
{
    /// <summary>
    /// Reads the jobs every <paramref name="poll"/> (default 500 ms) until <paramref name="done"/> holds for them, and
    /// returns them as last read. A read that fails (a coordinator restarting) is retried. Progress goes to
    /// <paramref name="log"/> every 10 s.
    /// </summary>
    /// <exception cref="TimeoutException"><paramref name="deadline"/> passed first.</exception>
    /// <exception cref="InvalidOperationException">Every job ended and <paramref name="done"/> still does not hold.</exception>
    public static async Task<List<JobView>> WaitUntilAsync(PoolClient pool, IReadOnlyList<Guid> ids, Func<List<JobView>, bool> done, DateTime deadline, string what, Action<string>? log = null, TimeSpan? poll = null)
    {
        var progress = Stopwatch.StartNew();
        while (true)
        {
            var views = new List<JobView>(ids.Count);
            foreach (var batch in ids.Chunk(100))
                views.AddRange(await Task.WhenAll(batch.Select(GetWithRetryAsync)));
            if (done(views))
                return views;
            var counts = string.Join(", ", views.GroupBy(v => v.Status).OrderBy(g => g.Key).Select(g => $"{g.Count()} {g.Key}"));
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"timed out waiting for {what}; jobs: {counts}");
            if (views.All(v => v.Status.IsFinal()))
                throw new InvalidOperationException($"every job ended before {what}; jobs: {counts} (use more jobs or tokens)");
            if (progress.Elapsed > TimeSpan.FromSeconds(10))
            {
                log?.Invoke($"waiting for {what}; jobs: {counts}");
                progress.Restart();
            }

            await Task.Delay(poll ?? TimeSpan.FromMilliseconds(500));
        }

        async Task<JobView> GetWithRetryAsync(Guid id)
        {
            for (var attempt = 1; ; attempt++)
            {
                try
                {
                    return await pool.GetAsync(id);
                }
                catch (Exception) when (attempt < 20 && DateTime.UtcNow < deadline)
                {
                    await Task.Delay(250);
                }
            }
        }
    }
}
