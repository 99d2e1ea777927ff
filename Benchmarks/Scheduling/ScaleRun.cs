using System.Diagnostics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using PoolAI.Client.Sdk;
using PoolAI.Jobs;

namespace PoolAI.Benchmarks.Scheduling;

/// <summary>
/// Serving capacity of simulated miners: <see cref="Miners"/> units of <see cref="SlotsEach"/> slots, each with its own
/// worker id, all running their work on the local silo (the coordinator), so one process can stand in for a pool of a
/// thousand machines. Offers nothing until <see cref="Enabled"/>.
/// </summary>
public sealed class SimulatedMiners(ILocalSiloDetails silo) : IServingSilos
{
    private IReadOnlyList<ServingSilo> _units = [];

    /// <summary>Number of simulated miners.</summary>
    public int Miners { get; private set; }

    /// <summary>Slots of each.</summary>
    public int SlotsEach { get; private set; }

    /// <summary>Whether they offer their slots.</summary>
    public bool Enabled { get; private set; }

    /// <summary>Brings <paramref name="miners"/> miners of <paramref name="slotsEach"/> slots online.</summary>
    public void Enable(int miners, int slotsEach)
    {
        Miners = miners;
        SlotsEach = slotsEach;
        var address = silo.SiloAddress.ToString();
        _units = Enumerable.Range(0, miners).Select(i => new ServingSilo(address, slotsEach, $"sim-{i:D4}", "cpu", 16_384)).ToList();
        Enabled = true;
    }

    /// <inheritdoc />
    public IReadOnlyList<ServingSilo> Silos(string queue) => Enabled && JobQueueKeys.Parse(queue).Kind == JobKind.System ? _units : [];
}

/// <summary>
/// The scale run: <c>jobs</c> no-op jobs are submitted and wait in one coordinator's queue with no capacity; then
/// <c>miners</c> simulated miners (<see cref="SimulatedMiners"/>) come online and the queue dispatches every job.
/// Figures: peak memory of the process (VmHWM, the resident-set high-water mark) and dispatch throughput, jobs/s from
/// the miners coming online to the queue being empty and every job succeeded.
/// </summary>
public static class ScaleRun
{
    /// <summary>Runs it; one run per process, so peak memory is this run's.</summary>
    public static async Task<ScaleResult> RunAsync(int miners, int slotsEach, int jobs, Action<string> log)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["PoolAI:Storage:Provider"] = "process", // in the silo's memory, as the one-process no-op run
            ["PoolAI:Cluster:GatewayPort"] = "0",
            ["PoolAI:Miner:Slots"] = "1",
        }).Build();
        await using var pool = await PoolConnection.OpenAsync(configuration, configureEmbeddedSilo: silo =>
            silo.Services.AddSingleton<SimulatedMiners>().AddSingleton<IServingSilos>(sp => sp.GetRequiredService<SimulatedMiners>()));
        var simulated = pool.Services.GetRequiredService<SimulatedMiners>();
        var client = pool.Client;

        log($"scale: submitting {jobs} no-op jobs with no miner online");
        var submitWatch = Stopwatch.StartNew();
        var next = 0;
        await Task.WhenAll(Enumerable.Range(0, 500).Select(async _ =>
        {
            await Task.Yield();
            while (Interlocked.Increment(ref next) <= jobs)
                await client.SubmitAsync(JobSpec.Noop("scale"));
        }));
        var submitted = submitWatch.Elapsed;
        var queue = pool.Services.GetRequiredService<IGrainFactory>().GetGrain<IJobQueueGrain>(JobQueueKeys.For(JobKind.System, SystemTasks.Noop));
        var before = await queue.GetStatsAsync();
        log($"scale: {before.Pending} waiting after {submitted.TotalSeconds:F1} s; {miners} simulated miners of {slotsEach} slots come online");

        var watch = Stopwatch.StartNew();
        simulated.Enable(miners, slotsEach);
        JobQueueStats stats;
        do
        {
            await Task.Delay(50);
            stats = await queue.GetStatsAsync();
        }
        while (stats.Pending > 0 || stats.Running > 0);
        var elapsed = watch.Elapsed;
        var peakMb = PeakResidentMegabytes();
        log($"scale: dispatched {jobs} in {elapsed.TotalSeconds:F1} s; peak resident memory {peakMb} MB");
        return new ScaleResult(miners, slotsEach, jobs, before.Pending, jobs / elapsed.TotalSeconds, peakMb, jobs / submitted.TotalSeconds);
    }

    /// <summary>The process's resident-set high-water mark (VmHWM in /proc/self/status), MB; the working-set peak elsewhere.</summary>
    public static long PeakResidentMegabytes()
    {
        const string path = "/proc/self/status";
        if (File.Exists(path))
        {
            foreach (var line in File.ReadLines(path))
            {
                if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                    return long.Parse(line.AsSpan(6).Trim().TrimEnd("kB").Trim(), System.Globalization.CultureInfo.InvariantCulture) / 1024;
            }
        }

        return Process.GetCurrentProcess().PeakWorkingSet64 / (1024 * 1024);
    }
}

/// <summary>Figures of one <see cref="ScaleRun"/>.</summary>
/// <param name="Miners">Simulated miners.</param>
/// <param name="SlotsEach">Slots per miner.</param>
/// <param name="Jobs">Jobs submitted.</param>
/// <param name="Queued">Jobs waiting when the miners came online.</param>
/// <param name="DispatchJobsPerSecond">Jobs dispatched and finished per second once miners were online.</param>
/// <param name="PeakMb">Peak resident memory of the process, MB.</param>
/// <param name="SubmitJobsPerSecond">Jobs accepted per second while queueing.</param>
public sealed record ScaleResult(int Miners, int SlotsEach, int Jobs, int Queued, double DispatchJobsPerSecond, long PeakMb, double SubmitJobsPerSecond);
