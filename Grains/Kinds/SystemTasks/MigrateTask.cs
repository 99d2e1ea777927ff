using System.Globalization;
using PoolAI.Execution;
using PoolAI.Jobs;
using PoolAI.Miners;
using PoolAI.Volumes;
using PoolAI.Volumes.Stores;
using PoolAI.Workers;

namespace PoolAI.Kinds.SystemTasks;

/// <summary>
/// The <see cref="Jobs.SystemTasks.Migrate"/> task: empties a silo before maintenance. It plans first (and refuses,
/// changing nothing, when the other stores cannot hold the shards at a volume's layout), then puts the worker in
/// maintenance and marks its store draining, has each volume move its shards off the store
/// (<see cref="IVolumeMaintenanceGrain.DrainAsync"/>, a batch at a time, reporting progress after each), waits for
/// the jobs the silo still runs, and checks that no volume refers to the store any more. It orchestrates only: moving
/// shards is the volumes' work.
/// </summary>
/// <param name="grains">The cluster.</param>
/// <param name="clock">Time, for the waits.</param>
public sealed class MigrateTask(IGrainFactory grains, TimeProvider clock)
{
    /// <summary>Shards a volume moves per call, between progress reports.</summary>
    public const int ShardsPerStep = 64;

    private const string Field = "input.parameters.worker";
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(500);

    private IStoreDirectoryGrain Directory => grains.GetGrain<IStoreDirectoryGrain>(IStoreDirectoryGrain.Default);

    /// <summary>Runs the task; returns a summary line.</summary>
    /// <exception cref="JobValidationException">Field <c>input.parameters.worker</c>: no such worker or store, or its shards have nowhere to go (the job fails without retry; nothing changed).</exception>
    /// <exception cref="InvalidOperationException">Shards could not be moved (unreadable stripes, failing stores); the job is retried.</exception>
    public async Task<SystemTaskOutput> RunAsync(JobExecution<SystemTaskInput> job, CancellationToken cancellationToken)
    {
        var parameters = MigrateParameters.Parse(job.Input);
        var worker = parameters.Worker;
        var deadline = clock.GetUtcNow() + parameters.Wait;
        var store = (await Directory.GetStoresAsync()).FirstOrDefault(s => s.StoreId == worker);
        var workerView = await grains.GetGrain<IWorkerGrain>(worker).GetAsync();
        if (store is null && workerView.Capabilities is null)
            throw new JobValidationException(Field, $"no worker or store '{worker}' is known to the pool");

        job.Report(0, null, "shards", "planning");
        var volumes = await grains.GetGrain<IVolumeRegistryGrain>(IVolumeRegistryGrain.Default).ListAsync();
        var plans = store is null ? [] : await PlanAsync(volumes, worker);
        if (plans.Where(p => p.Shortfall is not null).Select(p => p.Shortfall).ToList() is { Count: > 0 } shortfalls)
            throw new JobValidationException(Field, $"store {worker} cannot be emptied: {string.Join("; ", shortfalls)}");

        var reason = $"being emptied by migrate job {job.JobId:N}";
        // A banned worker already takes no work, and lifting maintenance later must not lift its ban.
        var banned = workerView.Status == WorkerStatus.Banned;
        if (!banned)
            await grains.GetGrain<IWorkerGrain>(worker).SetStatusAsync(WorkerStatus.Maintenance, reason);
        if (store is not null)
            await Directory.SetDrainingAsync(worker, reason);
        var jobsAtStart = await RunningAsync(worker, job.JobId);

        var moved = store is null ? new Moved() : await MoveAsync(job, worker, reason, plans, deadline, cancellationToken);
        var jobsLeft = await WaitForJobsAsync(job, worker, moved, deadline, cancellationToken);

        var left = store is null ? [] : await PlanAsync(volumes, worker);
        var remaining = left.Sum(p => p.Shards);
        if (remaining > 0)
        {
            throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture,
                $"store {worker} still holds {remaining} shards ({string.Join(", ", left.Where(p => p.Shards > 0).Select(p => $"{p.Volume} {p.Shards}"))}) after moving {moved.Shards}: {string.Join("; ", moved.Problems.Take(5))}"));
        }

        job.Report(moved.Shards, moved.Shards, "shards", "store empty", moved.Metrics);
        return new SystemTaskOutput(Summary(worker, banned, store is not null, moved, jobsAtStart, jobsLeft, parameters.Wait), []);
    }

    private async Task<DrainPlan[]> PlanAsync(IReadOnlyList<string> volumes, string store) =>
        await Task.WhenAll(volumes.Select(v => grains.GetGrain<IVolumeMaintenanceGrain>(v).PlanDrainAsync(store)));

    /// <summary>Has every volume move its shards off the store until none is left, none can move, or the writes it waits for outlast the deadline.</summary>
    private async Task<Moved> MoveAsync(JobExecution<SystemTaskInput> job, string store, string reason, IReadOnlyList<DrainPlan> plans, DateTimeOffset deadline, CancellationToken cancellationToken)
    {
        var moved = new Moved();
        var remaining = plans.ToDictionary(p => p.Volume, p => p.Shards, StringComparer.Ordinal);
        var fruitless = 0;
        while (true)
        {
            // Marked again on every round: a coordinator that restarted has forgotten it.
            await Directory.SetDrainingAsync(store, reason);
            var before = moved.Shards;
            var waiting = 0;
            foreach (var volume in remaining.Keys.ToList())
            {
                while (true)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    var step = await grains.GetGrain<IVolumeMaintenanceGrain>(volume).DrainAsync(store, ShardsPerStep);
                    moved.Add(volume, step);
                    remaining[volume] = step.Remaining;
                    var total = moved.Shards + remaining.Values.Sum();
                    job.Report(moved.Shards, total, "shards", $"{moved.Bytes} bytes moved; volume {volume}", moved.Metrics);
                    if (step.Moved == 0 || step.Remaining == 0)
                    {
                        waiting += step.Waiting;
                        break;
                    }
                }
            }

            moved.WritesWaitedFor = waiting;
            if (remaining.Values.All(r => r == 0) && waiting == 0)
                return moved;
            fruitless = moved.Shards == before && waiting == 0 ? fruitless + 1 : 0;
            if (fruitless >= 3 || clock.GetUtcNow() >= deadline)
                return moved;
            job.Report(moved.Shards, moved.Shards + remaining.Values.Sum(), "shards", waiting > 0 ? $"waiting for {waiting} writes granted the store before the drain" : "retrying shards that did not move", moved.Metrics);
            await Task.Delay(TimeSpan.FromSeconds(1), clock, cancellationToken);
        }
    }

    /// <summary>The attempts the silo runs, this job's own left out; null when it cannot be asked (an open miner, or a silo not in the cluster).</summary>
    private async Task<IReadOnlyList<RunningAttempt>?> RunningAsync(string worker, Guid self)
    {
        if (OpenMiners.KeyOf(worker) is not null)
            return null;
        try
        {
            return [.. (await grains.GetGrain<IWorkerJobsGrain>(worker).GetRunningAsync()).Where(a => a.JobId != self)];
        }
        catch (StoreUnavailableException)
        {
            return null; // no silo advertises the worker id: nothing runs there
        }
    }

    /// <summary>Waits until the silo runs no job but this one, or the deadline; returns what still runs (null when the silo cannot be asked).</summary>
    private async Task<IReadOnlyList<RunningAttempt>?> WaitForJobsAsync(JobExecution<SystemTaskInput> job, string worker, Moved moved, DateTimeOffset deadline, CancellationToken cancellationToken)
    {
        while (true)
        {
            var running = await RunningAsync(worker, job.JobId);
            if (running is not { Count: > 0 } || clock.GetUtcNow() >= deadline)
                return running;
            job.Report(moved.Shards, moved.Shards, "shards", $"waiting for {running.Count} job{(running.Count == 1 ? "" : "s")} still running on {worker}", moved.Metrics);
            await Task.Delay(Poll, clock, cancellationToken);
        }
    }

    private static string Summary(string worker, bool banned, bool hasStore, Moved moved, IReadOnlyList<RunningAttempt>? atStart, IReadOnlyList<RunningAttempt>? left, TimeSpan wait)
    {
        var invariant = CultureInfo.InvariantCulture;
        var shards = !hasStore
            ? "it holds no store"
            : string.Create(invariant, $"moved {moved.Shards} shards ({moved.Bytes} bytes; {moved.Copied} copied, {moved.Rebuilt} rebuilt){(moved.PerVolume.Count == 0 ? "" : " from " + string.Join(", ", moved.PerVolume.Select(v => $"{v.Key} {v.Value}")))}; deleted {moved.Cleared} unreferenced shards; store empty: 0 shards referenced by any volume");
        if (hasStore && moved.WritesWaitedFor > 0)
            shards += string.Create(invariant, $" ({moved.WritesWaitedFor} writes granted it before the drain were still open after {wait.TotalSeconds:0} s; what they commit there is rebuilt elsewhere once it is gone)");
        var jobs = atStart is null
            ? "jobs: not tracked (an open miner, or no silo in the cluster advertises it)"
            : left is { Count: > 0 }
                ? string.Create(invariant, $"jobs: {left.Count} still running after {wait.TotalSeconds:0} s: {string.Join(", ", left.Select(Describe))}")
                : string.Create(invariant, $"jobs: {(atStart.Count == 0 ? "none were running" : $"{atStart.Count} running at the start ({string.Join(", ", atStart.Select(Describe))}) ended")}");
        return $"migrate {worker}: {(banned ? "worker stays banned" : "worker in maintenance")}; {shards}; {jobs}";
    }

    private static string Describe(RunningAttempt attempt) => $"{attempt.JobId:N} ({attempt.Kind}/{attempt.Target})";

    /// <summary>What the drain moved so far.</summary>
    private sealed class Moved
    {
        public long Shards { get; private set; }

        public long Copied { get; private set; }

        public long Rebuilt { get; private set; }

        public long Bytes { get; private set; }

        public long Cleared { get; private set; }

        public int WritesWaitedFor { get; set; }

        public SortedDictionary<string, long> PerVolume { get; } = new(StringComparer.Ordinal);

        public List<string> Problems { get; } = [];

        public IReadOnlyDictionary<string, double> Metrics => new Dictionary<string, double>
        {
            ["bytes"] = Bytes,
            ["copied"] = Copied,
            ["rebuilt"] = Rebuilt,
        };

        public void Add(string volume, DrainStep step)
        {
            Shards += step.Moved;
            Copied += step.Copied;
            Rebuilt += step.Rebuilt;
            Bytes += step.Bytes;
            Cleared += step.Cleared;
            if (step.Moved > 0)
                PerVolume[volume] = PerVolume.GetValueOrDefault(volume) + step.Moved;
            Problems.AddRange(step.Problems);
        }
    }
}
