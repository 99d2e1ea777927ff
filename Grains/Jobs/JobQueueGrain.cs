using Microsoft.Extensions.Logging;
using PoolAI.Placement;
using PoolAI.Storage;

namespace PoolAI.Jobs;

/// <summary>
/// Pending jobs of one model, on a coordinator silo. Dispatch runs outside the calling turn (a job's submit awaits
/// <see cref="EnqueueAsync"/>, and dispatch calls back into jobs), one loop at a time; a released slot
/// or a new job triggers it at once. While work waits for capacity that no silo offers, a timer
/// re-checks the cluster every <see cref="BlockedRecheck"/> so a miner that joins gets work.
/// <para>
/// Recovery: when the queue activates (a coordinator starts, see <c>QueueRecovery</c>) it wakes every job it counts
/// as running, so a job whose activation died with a coordinator notices and comes back; and every
/// <see cref="ExpirySweep"/> it wakes waiting jobs whose time to live has ended, so they end <c>Expired</c> even when
/// nothing else activates them.
/// </para>
/// </summary>
[CoordinatorFilter]
public sealed partial class JobQueueGrain(
    [PersistentState("queue", PoolKeys.Storage)] IPersistentState<JobQueueState> state,
    ServingCapacity capacity,
    Microsoft.Extensions.Options.IOptions<JobOptions> options,
    TimeProvider time,
    ILogger<JobQueueGrain> logger) : Grain, IJobQueueGrain
{
    private readonly SerializedWrites<JobQueueState> _writes = new(state);
    private readonly HashSet<Guid> _starting = [];
    private readonly Dictionary<string, long> _lastStarted = new(StringComparer.Ordinal);
    private long _starts;

    /// <summary>How often a blocked queue looks for new capacity.</summary>
    public static readonly TimeSpan BlockedRecheck = TimeSpan.FromSeconds(1);

    /// <summary>How often the queue looks for waiting jobs whose time to live has ended.</summary>
    public static readonly TimeSpan ExpirySweep = TimeSpan.FromSeconds(5);

    private Task? _dispatch;
    private bool _dispatchAgain;
    private IGrainTimer? _recheck;

    private string Model => this.GetPrimaryKeyString();

    /// <inheritdoc />
    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        foreach (var jobId in state.State.LegacyRunning)
            state.State.Running.TryAdd(jobId, string.Empty);
        state.State.LegacyRunning.Clear();
        this.RegisterGrainTimer(() => { _ = WakeAsync(ExpiredPending); return Task.CompletedTask; }, ExpirySweep, ExpirySweep);
        _ = WakeAsync(() => state.State.Running.Keys);
        RequestDispatch();
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public async Task<string?> EnqueueAsync(Guid jobId, int priority, DateTimeOffset enqueuedAt, DateTimeOffset expiresAt, IReadOnlyList<string>? excludedWorkers = null, string? requester = null)
    {
        var stale = state.State.Running.ContainsKey(jobId) && !_starting.Contains(jobId);
        if (stale || (!state.State.Running.ContainsKey(jobId) && !state.State.Pending.Any(j => j.JobId == jobId)))
        {
            // A job that says it is queued but that the queue counts as running lost its start to a crash: it waits again.
            StopRunning(jobId);
            state.State.Pending.Add(new QueuedJob(jobId, priority, enqueuedAt, expiresAt, excludedWorkers, requester));
            await _writes.WriteAsync();
            RequestDispatch();
        }

        return capacity.For(Model) == 0 ? $"no worker serves model {Model}" : null;
    }

    /// <inheritdoc />
    public async Task RequeueAsync(Guid jobId, int priority, DateTimeOffset enqueuedAt, DateTimeOffset expiresAt, IReadOnlyList<string>? excludedWorkers = null, string? requester = null)
    {
        StopRunning(jobId);
        if (!state.State.Pending.Any(j => j.JobId == jobId))
            state.State.Pending.Add(new QueuedJob(jobId, priority, enqueuedAt, expiresAt, excludedWorkers, requester));
        await _writes.WriteAsync();
        RequestDispatch();
    }

    /// <inheritdoc />
    public async Task ReprioritizeAsync(Guid jobId, int priority)
    {
        var index = state.State.Pending.FindIndex(j => j.JobId == jobId);
        if (index < 0 || state.State.Pending[index].Priority == priority)
            return;
        state.State.Pending[index] = state.State.Pending[index] with { Priority = priority };
        await _writes.WriteAsync();
        RequestDispatch();
    }

    /// <inheritdoc />
    public async Task RemoveAsync(Guid jobId)
    {
        if (state.State.Pending.RemoveAll(j => j.JobId == jobId) > 0)
            await _writes.WriteAsync();
    }

    /// <inheritdoc />
    public async Task ReleaseAsync(Guid jobId)
    {
        if (StopRunning(jobId))
            await _writes.WriteAsync();
        RequestDispatch();
    }

    /// <inheritdoc />
    public Task<JobQueueStats> GetStatsAsync()
    {
        var slots = capacity.For(Model);
        return Task.FromResult(new JobQueueStats(Model, state.State.Pending.Count, state.State.Running.Count, slots, BlockedReason(slots)));
    }

    private string? BlockedReason(int slots) =>
        state.State.Pending.Count > 0 && slots == 0 ? $"no worker serves model {Model}" : null;

    private void RequestDispatch()
    {
        if (_dispatch is { IsCompleted: false })
        {
            _dispatchAgain = true;
            return;
        }

        _dispatch = DispatchAsync();
    }

    private async Task DispatchAsync()
    {
        // Let the turn that asked for dispatch finish first: it may be a job's submit waiting on us.
        await Task.Yield();
        do
        {
            _dispatchAgain = false;
            var silos = capacity.Silos(Model);
            var startFailed = false;
            (QueuedJob Job, ServingSilo Silo)? pick = null;
            while (!startFailed && (pick = NextStart(silos)) is ({ } next, { } silo))
            {
                state.State.Pending.Remove(next);
                state.State.Running[next.JobId] = silo.Silo;
                if (next.Requester is { } requester)
                    state.State.RunningRequesters[next.JobId] = requester;
                _lastStarted[next.Requester ?? string.Empty] = ++_starts;
                await _writes.WriteAsync();
                bool started;
                _starting.Add(next.JobId);
                try
                {
                    started = await GrainFactory.GetGrain<IJobGrain>(next.JobId).StartAsync(new JobPlacement(silo.Silo, silo.Worker, silo.Device));
                }
                catch (Exception ex)
                {
                    // The job stays queued; the re-check timer tries again instead of spinning here.
                    LogStartFailed(next.JobId, ex);
                    state.State.Pending.Add(next);
                    started = false;
                    startFailed = true;
                }
                finally
                {
                    _starting.Remove(next.JobId);
                }

                if (!started)
                {
                    StopRunning(next.JobId);
                    await _writes.WriteAsync();
                }
            }

            var waiting = state.State.Pending.Count > 0 && (startFailed || pick is null);
            UpdateRecheckTimer(waiting);
        }
        while (_dispatchAgain);
    }

    /// <summary>
    /// The first waiting job in dispatch order that a silo with a free slot may run, with that silo; null when none. A
    /// job that excludes workers is passed over (not blocking the jobs behind it) while only excluded silos are free.
    /// </summary>
    private (QueuedJob Job, ServingSilo Silo)? NextStart(IReadOnlyList<ServingSilo> silos)
    {
        if (silos.Count == 0)
            return null;
        var used = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var placed in state.State.Running.Values)
            used[placed] = used.GetValueOrDefault(placed) + 1;
        var perRequester = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var requester in state.State.RunningRequesters.Values)
            perRequester[requester] = perRequester.GetValueOrDefault(requester) + 1;
        var cap = options.Value.MaxRunningPerRequester;
        foreach (var job in JobQueueOrder.Ordered(state.State.Pending, perRequester, _lastStarted, time.GetUtcNow(), options.Value.AgeingInterval))
        {
            if (cap > 0 && perRequester.GetValueOrDefault(job.Requester ?? string.Empty) >= cap)
                continue; // its requester is at the cap: the jobs behind it may run
            if (PickSilo(silos, used, job.ExcludedWorkers) is { } silo)
                return (job, silo);
            if (job.ExcludedWorkers is not { Count: > 0 })
                return null; // no free slot at all
        }

        return null;
    }

    /// <summary>Forgets that <paramref name="jobId"/> runs; true when it did.</summary>
    private bool StopRunning(Guid jobId)
    {
        state.State.RunningRequesters.Remove(jobId);
        return state.State.Running.Remove(jobId);
    }

    /// <summary>
    /// The silo with the most free slots (ties: the one running fewer jobs, then by address) whose worker is not
    /// excluded, or null when every such slot is taken. A silo's free slots are its declared slots less the jobs this
    /// queue placed on it.
    /// </summary>
    private static ServingSilo? PickSilo(IReadOnlyList<ServingSilo> silos, Dictionary<string, int> used, IReadOnlyList<string>? excluded) => silos
        .Where(s => excluded is null || s.Worker is null || !excluded.Contains(s.Worker, StringComparer.Ordinal))
        .Select(s => (Silo: s, Free: s.Slots - used.GetValueOrDefault(s.Silo), Used: used.GetValueOrDefault(s.Silo)))
        .Where(s => s.Free > 0)
        .OrderByDescending(s => s.Free).ThenBy(s => s.Used).ThenBy(s => s.Silo.Silo, StringComparer.Ordinal)
        .Select(s => s.Silo)
        .FirstOrDefault();

    /// <summary>
    /// Activates each job in turn, outside the calling turn (a job calls back into the queue as it activates): a job
    /// whose attempt died with its activation requeues itself, a job whose time to live has ended expires and
    /// leaves the queue, and a job that finished without releasing its slot (a crash in between) gives it back.
    /// </summary>
    private async Task WakeAsync(Func<IEnumerable<Guid>> jobs)
    {
        await Task.Yield();
        foreach (var jobId in jobs().ToList())
        {
            try
            {
                var view = await GrainFactory.GetGrain<IJobGrain>(jobId).GetAsync();
                if (view.Status.IsFinal() && !_starting.Contains(jobId) && StopRunning(jobId))
                {
                    // It finished but its release was lost with a crash: the slot is free.
                    await _writes.WriteAsync();
                    RequestDispatch();
                }
            }
            catch (Exception ex)
            {
                LogWakeFailed(jobId, ex);
            }
        }
    }

    private IEnumerable<Guid> ExpiredPending()
    {
        var now = time.GetUtcNow();
        return state.State.Pending.Where(j => j.ExpiresAt != default && j.ExpiresAt <= now).Select(j => j.JobId);
    }

    private void UpdateRecheckTimer(bool waiting)
    {
        if (waiting && _recheck is null)
        {
            _recheck = this.RegisterGrainTimer(() => { RequestDispatch(); return Task.CompletedTask; }, BlockedRecheck, BlockedRecheck);
        }
        else if (!waiting && _recheck is not null)
        {
            _recheck.Dispose();
            _recheck = null;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not wake job {JobId}")]
    private partial void LogWakeFailed(Guid jobId, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not start job {JobId}; it stays queued")]
    private partial void LogStartFailed(Guid jobId, Exception exception);
}
