using System.Diagnostics;
using Microsoft.Extensions.Configuration;
using PoolAI.Client.Sdk;
using PoolAI.Jobs;

namespace PoolAI.Benchmarks.Scheduling;

/// <summary>
/// No-op jobs (<see cref="SystemTasks.Noop"/>) through the client SDK on one all-in-one silo: each job is accepted and
/// stored, queued, placed on a slot, run on the miner side, stored as succeeded and waited for by the client. Latency is
/// one job at a time (submit, then wait for the result); throughput keeps many jobs in flight.
/// </summary>
public static class NoopJobs
{
    /// <summary>Runs the measurements on a pool with the given storage.</summary>
    /// <param name="storage"><c>memory</c> (the silo's own memory, provider <c>process</c>) or <c>postgres</c> (then <paramref name="database"/> is the connection string of an empty database).</param>
    /// <param name="database">PostgreSQL connection string, for <c>postgres</c>.</param>
    /// <param name="latencyJobs">Jobs timed one at a time.</param>
    /// <param name="throughputJobs">Jobs per throughput repeat.</param>
    /// <param name="inFlight">Jobs in flight during throughput runs.</param>
    /// <param name="repeats">Throughput repeats.</param>
    /// <param name="log">Progress lines.</param>
    public static async Task<NoopResult> RunAsync(string storage, string? database, int latencyJobs, int throughputJobs, int inFlight, int repeats, Action<string> log)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            // In-memory storage for this one-process pool is the silo's own memory (provider "process"): Orleans' memory
            // provider would add a grain call to every read and write.
            ["PoolAI:Storage:Provider"] = storage == "memory" ? "process" : storage,
            ["PoolAI:Database:ConnectionString"] = database,
            ["PoolAI:Database:Migrate"] = database is null ? null : "true",
            ["PoolAI:Cluster:GatewayPort"] = "0",
            ["PoolAI:Miner:Slots"] = "64",
        }).Build();
        await using var pool = await PoolConnection.OpenAsync(configuration);
        var client = pool.Client;

        await WarmUpAsync(client, Math.Min(throughputJobs, 10_000), inFlight, storage, log);

        log($"noop {storage}: {latencyJobs} jobs one at a time");
        var latencies = new double[latencyJobs];
        for (var i = 0; i < latencyJobs; i++)
        {
            var watch = Stopwatch.StartNew();
            await RunOneAsync(client);
            latencies[i] = watch.Elapsed.TotalMilliseconds;
        }

        Array.Sort(latencies);
        var rates = new List<double>();
        for (var r = 0; r < repeats; r++)
        {
            log($"noop {storage}: {throughputJobs} jobs, {inFlight} in flight (repeat {r + 1} of {repeats})");
            var allocated = GC.GetTotalAllocatedBytes();
            var paused = GC.GetTotalPauseDuration();
            var collections = GC.CollectionCount(0);
            var cpu = Process.GetCurrentProcess().TotalProcessorTime;
            var watch = Stopwatch.StartNew();
            rates.Add(await ThroughputAsync(client, throughputJobs, inFlight));
            var cpuPerJob = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalMicroseconds / throughputJobs;
            log($"noop {storage}: {rates[^1]:F0} jobs/s; {cpuPerJob:F0} µs of CPU (all threads) and {(GC.GetTotalAllocatedBytes() - allocated) / 1024.0 / throughputJobs:F1} KiB allocated per job, " +
                $"{GC.CollectionCount(0) - collections} collections, {100 * (GC.GetTotalPauseDuration() - paused) / watch.Elapsed:F0} % of the time paused for GC");
        }

        return new NoopResult(storage, Percentile(latencies, 0.50), Percentile(latencies, 0.99), Summary.Of(rates), throughputJobs, inFlight);
    }

    /// <summary>
    /// Runs rounds of <paramref name="roundJobs"/> jobs until the rate is steady: at least <see cref="MinWarmUpRounds"/>
    /// rounds and until two rounds in a row are within 10 % of each other, at most <see cref="MaxWarmUpRounds"/>. The
    /// runtime's tiered JIT with dynamic PGO keeps recompiling hot methods for tens of thousands of jobs (the rate rose
    /// from about 3,000 to 8,000 jobs/s over the first 100,000), so a fixed short warm-up measured the JIT, not the pool.
    /// </summary>
    public static async Task WarmUpAsync(PoolClient client, int roundJobs, int inFlight, string storage, Action<string> log)
    {
        var previous = 0.0;
        for (var round = 1; round <= MaxWarmUpRounds; round++)
        {
            var rate = await ThroughputAsync(client, roundJobs, inFlight);
            log($"noop {storage}: warm-up round {round}: {rate:F0} jobs/s");
            if (round >= MinWarmUpRounds && Math.Abs(rate - previous) <= 0.1 * Math.Max(rate, previous))
                return;
            previous = rate;
        }
    }

    /// <summary>Fewest warm-up rounds.</summary>
    public const int MinWarmUpRounds = 8;

    /// <summary>Most warm-up rounds.</summary>
    public const int MaxWarmUpRounds = 20;

    /// <summary>Completed jobs per second with <paramref name="inFlight"/> clients each running jobs back to back until <paramref name="jobs"/> are done.</summary>
    public static async Task<double> ThroughputAsync(PoolClient client, int jobs, int inFlight)
    {
        var next = 0;
        var watch = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, inFlight).Select(async _ =>
        {
            await Task.Yield();
            while (Interlocked.Increment(ref next) <= jobs)
                await RunOneAsync(client);
        }));
        return jobs / watch.Elapsed.TotalSeconds;
    }

    private static async Task RunOneAsync(PoolClient client)
    {
        var submitted = await client.SubmitAsync(JobSpec.Noop("bench"));
        var done = submitted.Status.IsFinal() ? submitted : await client.WaitAsync(submitted.Id, TimeSpan.FromMinutes(5));
        if (done.Status != JobStatus.Succeeded)
            throw new InvalidOperationException($"no-op job {done.Id} ended {done.Status}: {done.StatusMessage}");
    }

    /// <summary>The value at fraction <paramref name="p"/> of sorted <paramref name="sorted"/> (nearest rank).</summary>
    public static double Percentile(double[] sorted, double p) => sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];
}

/// <summary>Figures of <see cref="NoopJobs"/>.</summary>
/// <param name="Storage">Grain storage.</param>
/// <param name="P50Ms">Median round trip of one job, submit to result, ms.</param>
/// <param name="P99Ms">99th percentile round trip, ms.</param>
/// <param name="JobsPerSecond">Completed jobs per second with many in flight, over repeats.</param>
/// <param name="Jobs">Jobs per throughput repeat.</param>
/// <param name="InFlight">Jobs in flight.</param>
public sealed record NoopResult(string Storage, double P50Ms, double P99Ms, Summary JobsPerSecond, int Jobs, int InFlight);
