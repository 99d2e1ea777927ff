using System.Diagnostics;
using Hangfire;
using Hangfire.PostgreSql;
using Hangfire.PostgreSql.Factories;

namespace PoolAI.Benchmarks.Scheduling;

/// <summary>
/// The competitor of the PostgreSQL no-op benchmark: the same number of no-op jobs through Hangfire
/// (<c>Hangfire.PostgreSql</c>) on the same database, in its own schema. Hangfire is given its best settings for the
/// test: LISTEN/NOTIFY long polling, a 50 ms queue poll fallback (its lowest safe value), 20 workers (its default is 5 per core, at most 20).
/// Jobs/s is from the first enqueue to the last job run, with <see cref="Enqueuers"/> threads enqueuing at once (Hangfire's client is synchronous; the PoolAI side has 500
/// jobs in flight).
/// </summary>
public static class HangfireNoop
{
    /// <summary>Threads enqueuing at once (Hangfire's client is synchronous: one blocked thread per call in flight).</summary>
    public const int Enqueuers = 8;

    private static int _left;
    private static TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>The job: counts itself.</summary>
    public static void Noop()
    {
        if (Interlocked.Decrement(ref _left) == 0)
            _done.TrySetResult();
    }

    /// <summary>Runs <paramref name="jobs"/> no-op jobs per repeat and returns jobs/s over the repeats.</summary>
    public static async Task<Summary> RunAsync(string connectionString, int jobs, int repeats, Action<string> log)
    {
        var options = new PostgreSqlStorageOptions
        {
            SchemaName = "hangfire_bench",
            PrepareSchemaIfNecessary = true,
            QueuePollInterval = TimeSpan.FromMilliseconds(50), // the lowest Hangfire.PostgreSql allows without AllowUnsafeValues
            EnableLongPolling = false,
        };
        var storage = new PostgreSqlStorage(new NpgsqlConnectionFactory(connectionString, options), options);
        using var server = new BackgroundJobServer(new BackgroundJobServerOptions { WorkerCount = 20, ServerName = "poolai-bench" }, storage);
        var client = new BackgroundJobClient(storage);

        await RunOnceAsync(client, Math.Min(jobs, 1000)); // warm-up
        var rates = new List<double>();
        for (var r = 0; r < repeats; r++)
        {
            log($"hangfire postgres: {jobs} jobs (repeat {r + 1} of {repeats})");
            rates.Add(await RunOnceAsync(client, jobs));
        }

        return Summary.Of(rates);
    }

    private static async Task<double> RunOnceAsync(BackgroundJobClient client, int jobs)
    {
        _left = jobs;
        _done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var next = 0;
        var watch = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, Enqueuers).Select(_ => Task.Run(() =>
        {
            while (Interlocked.Increment(ref next) <= jobs)
                client.Enqueue(() => Noop());
        })));
        await _done.Task.WaitAsync(TimeSpan.FromMinutes(10));
        return jobs / watch.Elapsed.TotalSeconds;
    }
}
