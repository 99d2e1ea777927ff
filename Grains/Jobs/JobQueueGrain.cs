using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orleans.Storage;
using PoolAI.Placement;
using PoolAI.Storage;

namespace PoolAI.Jobs;

/// <summary>
/// Pending jobs of one kind on one target (keyed by <see cref="JobQueueKeys"/>), on a coordinator silo. Who starts
/// where is decided by its <see cref="QueueBook"/>; how it is stored, by its <see cref="QueueStore"/>. Dispatch runs outside the calling turn (a job's submit awaits
/// <see cref="EnqueueAsync"/>, and dispatch calls back into jobs), one loop at a time; a released slot or a new job
/// triggers it at once. Starts are pipelined: up to <see cref="MaxStartsInFlight"/> jobs are being started at once, each
/// on a slot the queue reserved first, so a burst of work reaches free capacity without one round trip per job. While
/// work waits for capacity that no silo offers, a timer re-checks the cluster every <see cref="BlockedRecheck"/> so a
/// miner that joins gets work.
/// <para>
/// Waiting jobs are indexed by <see cref="PendingJobs"/> (the next job is a bucket head) and capacity by
/// <see cref="SlotBook"/> (the freest unit from a sorted set), so a start costs O(B log B + log m) for B buckets and m
/// serving units, whatever the number of waiting jobs.
/// </para>
/// <para>
/// The grain is reentrant: a handler makes its whole change to the in-memory index before it awaits (the write of an
/// enqueue, say), so calls interleave at those awaits without seeing half a change, and an enqueue waiting for its
/// write does not hold up the releases and enqueues behind it (they share the next write).
/// </para>
/// <para>
/// Recovery: when the queue activates (a coordinator starts, see <c>QueueRecovery</c>) it wakes every job it counts
/// as running, so a job whose activation died with a coordinator notices and comes back; and every
/// <see cref="ExpirySweep"/> it wakes waiting jobs whose time to live has ended, so they end <c>Expired</c> even when
/// nothing else activates them. Every <see cref="JobOptions.RunningAudit"/> (15 s by default) it wakes the jobs it has counted as running since the
/// last audit, so a slot whose release was lost, or a job whose requeue was lost, is set right within two periods.
/// </para>
/// <para>
/// Parking: a job still waiting <see cref="ParkAfter"/> after it was enqueued is told to deactivate if nobody waits on
/// or watches it (<see cref="IJobGrain.ParkAsync"/>); its entry here is all a waiting job needs, and the start
/// activates it again. A backlog of a hundred thousand jobs so costs entries and stored rows, not activations; a job
/// that starts within that time costs nothing extra.
/// </para>
/// </summary>
[CoordinatorFilter]
[Reentrant] // every handler changes its in-memory state before its first await; awaits are only writes and job calls
public sealed partial class JobQueueGrain : Grain, IJobQueueGrain
{
    /// <summary>How often a blocked queue looks for new capacity.</summary>
    public static readonly TimeSpan BlockedRecheck = TimeSpan.FromSeconds(1);

    /// <summary>How often the queue looks for waiting jobs whose time to live has ended, and parks jobs that have waited <see cref="ParkAfter"/>.</summary>
    public static readonly TimeSpan ExpirySweep = TimeSpan.FromSeconds(1);

    /// <summary>How long a job waits before its queue parks it (see the remarks).</summary>
    public static readonly TimeSpan ParkAfter = TimeSpan.FromSeconds(1);

    /// <summary>Most job starts awaiting their job's answer at once.</summary>
    public const int MaxStartsInFlight = 256;

    private readonly IServingSilos _capacity;
    private readonly JobOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<JobQueueGrain> _logger;
    private readonly QueueStore _store;
    private readonly GroupCommit _writes;
    private QueueBook _book = null!;
    private readonly Queue<(Guid JobId, DateTimeOffset At)> _parking = new();
    private HashSet<Guid> _audited = [];
    private Task? _dispatch;
    private bool _dispatchAgain;
    private bool _startFailed;
    private IGrainTimer? _recheck;

    /// <summary>Creates the queue grain.</summary>
    public JobQueueGrain(
        [PersistentState("queue", PoolKeys.Storage)] IPersistentState<JobQueueState> state,
        IServingSilos capacity,
        Microsoft.Extensions.Options.IOptions<JobOptions> options,
        TimeProvider time,
        IServiceProvider services,
        ILogger<JobQueueGrain> logger)
    {
        _capacity = capacity;
        _options = options.Value;
        _time = time;
        _logger = logger;
        _store = new QueueStore(state, services.GetRequiredKeyedService<IGrainStorage>(PoolKeys.Storage), this.GetGrainId());
        _writes = new GroupCommit(() => _store.WriteAsync(_book));
    }

    private string Key => this.GetPrimaryKeyString();

    /// <inheritdoc />
    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        (_book, var rewrite) = await _store.LoadAsync(Key, _options);
        if (rewrite)
            _writes.MarkDirty();

        this.RegisterGrainTimer(() =>
        {
            _writes.Flush();
            Park();
            _ = WakeAsync(ExpiredPending);
            return Task.CompletedTask;
        }, ExpirySweep, ExpirySweep);
        this.RegisterGrainTimer(() =>
        {
            var suspects = _book.Running.Keys.Where(id => _audited.Contains(id) && !_book.Starting.Contains(id)).ToList();
            _audited = [.. _book.Running.Keys];
            if (suspects.Count > 0)
                _ = WakeAsync(() => suspects);
            return Task.CompletedTask;
        }, _options.RunningAudit, _options.RunningAudit);
        _ = WakeAsync(() => _book.Running.Keys);
        RequestDispatch();
    }

    /// <inheritdoc />
    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        // Starts and releases are stored with the next write (see GroupCommit.MarkDirty); store them before going.
        if (_writes.IsDirty)
            await _writes.WriteAsync().WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing | ConfigureAwaitOptions.ContinueOnCapturedContext);
    }

    /// <inheritdoc />
    public async Task<string?> EnqueueAsync(QueuedJob job)
    {
        var running = _book.Running.ContainsKey(job.JobId);
        var stale = running && !_book.Starting.Contains(job.JobId);
        if (stale || (!running && !_book.Pending.Contains(job.JobId)))
        {
            // A job that says it is queued but that the queue counts as running lost its start to a crash: it waits again.
            _book.StopRunning(job.JobId);
            _book.AddPending(job);
            RequestDispatch();
            _parking.Enqueue((job.JobId, _time.GetUtcNow()));
            await _writes.WriteAsync();
        }
        else if (!running)
        {
            _parking.Enqueue((job.JobId, _time.GetUtcNow())); // a parked job woken by someone: park it again once idle
        }

        _book.Slots.Sync(_capacity.Silos(Key));
        return _book.WaitReason(job);
    }

    /// <inheritdoc />
    public async Task<QueueAdmission> AdmitAsync(QueuedJob job)
    {
        if (!_startFailed && _book.Starting.Count < MaxStartsInFlight && !_book.Running.ContainsKey(job.JobId) && !_book.Pending.Contains(job.JobId)
            && _book.UnderCap(job.Requester))
        {
            _book.Slots.Sync(_capacity.Silos(Key));
            // Only when no waiting job could take a free slot now: one that waits for capacity no silo offers (a cuda
            // job on a CPU pool, a check job whose only worker is excluded) or whose requester is at the cap does not
            // stop the jobs that fit from starting at once, and one that could start keeps its turn.
            if ((_book.Pending.Count == 0 || _book.NextStart(_time.GetUtcNow()) is null) && _book.Slots.Pick(job) is { } unit)
            {
                // It takes the slot now. Stored as running before the job hears it, so a crash after the answer finds
                // it counted, and the job (still Queued in its own storage) waits again.
                _book.MarkRunning(job.JobId, unit.Key, job.Requester);
                _book.CountStart(job.Requester);
                try
                {
                    await _writes.WriteAsync();
                    return new QueueAdmission(new JobPlacement(unit.Silo, unit.Worker, unit.Device), null);
                }
                catch (Exception)
                {
                    // Not stored: the slot is given back and the job waits like any enqueued one (a resubmit of its id
                    // only reads the job back, so it must not be left out of the queue).
                    _book.StopRunning(job.JobId);
                }
            }
        }

        return new QueueAdmission(null, await EnqueueAsync(job));
    }

    /// <inheritdoc />
    public async Task RequeueAsync(QueuedJob job)
    {
        _book.StopRunning(job.JobId);
        _book.AddPending(job);
        RequestDispatch();
        _parking.Enqueue((job.JobId, _time.GetUtcNow()));
        await _writes.WriteAsync();
    }

    /// <inheritdoc />
    public async Task ReprioritizeAsync(Guid jobId, int priority)
    {
        if (!_book.Pending.TryGet(jobId, out var job) || job.Priority == priority)
            return;
        _book.RemovePending(jobId);
        _book.AddPending(job with { Priority = priority });
        RequestDispatch();
        await _writes.WriteAsync();
    }

    /// <inheritdoc />
    public Task RemoveAsync(Guid jobId)
    {
        // The job's own state says it will not run; a removal lost in a crash is caught when its start is refused.
        if (_book.RemovePending(jobId))
            _writes.MarkDirty();
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task ReleaseAsync(Guid jobId)
    {
        if (_book.StopRunning(jobId))
            _writes.MarkDirty();
        RequestDispatch();
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task<JobQueueStats> GetStatsAsync()
    {
        _book.Slots.Sync(_capacity.Silos(Key));
        var blocked = _book.Pending.Count == 0 ? null : _book.Heads(_time.GetUtcNow()).Select(_book.WaitReason).FirstOrDefault(r => r is not null);
        return Task.FromResult(new JobQueueStats(Key, _book.Pending.Count, _book.Running.Count, _book.Slots.TotalSlots, blocked));
    }

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
            _book.Slots.Sync(_capacity.Silos(Key));
            var started = false;
            while (!_startFailed && _book.Starting.Count < MaxStartsInFlight && _book.NextStart(_time.GetUtcNow()) is ({ } job, { } unit))
            {
                _book.BeginStart(job, unit);
                started = true;
                StartOneAsync(job, unit).Ignore();
            }

            if (started)
                _writes.MarkDirty();
            UpdateRecheckTimer();
        }
        while (_dispatchAgain);
    }

    /// <summary>Starts <paramref name="job"/> on the slot reserved on <paramref name="unit"/> and settles the reservation with the job's answer.</summary>
    private async Task StartOneAsync(QueuedJob job, ServingSilo unit)
    {
        JobPlacement? placed;
        try
        {
            placed = await GrainFactory.Reference<IJobGrain>(job.JobId).StartAsync(new JobPlacement(unit.Silo, unit.Worker, unit.Device));
        }
        catch (Exception ex)
        {
            // The job stays queued; the re-check timer tries again instead of spinning here.
            LogStartFailed(job.JobId, ex);
            _book.Starting.Remove(job.JobId);
            _book.StopRunning(job.JobId);
            _book.AddPending(job);
            _startFailed = true;
            _writes.MarkDirty();
            UpdateRecheckTimer();
            return;
        }

        _book.Starting.Remove(job.JobId);
        if (placed is null)
        {
            _book.StopRunning(job.JobId); // final or no longer queued: the reserved slot is free again
            _writes.MarkDirty();
        }
        else if (ServingSilo.UnitKey(placed.Silo, placed.Worker) is var key && key != unit.Key)
        {
            // It was already running elsewhere (its start was forgotten in a crash): count the slot it really holds.
            _book.StopRunning(job.JobId);
            _book.MarkRunning(job.JobId, key, job.Requester);
            _writes.MarkDirty();
        }

        if (placed is null || _book.Pending.Count > 0)
            RequestDispatch();
    }

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
                var view = await GrainFactory.Reference<IJobGrain>(jobId).WakeAsync();
                if (view.Status.IsFinal() && !_book.Starting.Contains(jobId) && _book.StopRunning(jobId))
                {
                    // It finished but its release was lost with a crash: the slot is free.
                    _writes.MarkDirty();
                    RequestDispatch();
                }
            }
            catch (KeyNotFoundException)
            {
                // No such job (its record is gone): nothing runs on the slot it was counted on.
                if (!_book.Starting.Contains(jobId) && _book.StopRunning(jobId))
                {
                    _writes.MarkDirty();
                    RequestDispatch();
                }
            }
            catch (Exception ex)
            {
                LogWakeFailed(jobId, ex);
            }
        }
    }

    /// <summary>Tells the jobs that have waited <see cref="ParkAfter"/> since they were enqueued, and still wait, to deactivate.</summary>
    private void Park()
    {
        var before = _time.GetUtcNow() - ParkAfter;
        while (_parking.TryPeek(out var next) && next.At <= before)
        {
            _parking.Dequeue();
            if (_book.Pending.Contains(next.JobId))
                GrainFactory.Reference<IJobGrain>(next.JobId).ParkAsync().Ignore();
        }
    }

    private IEnumerable<Guid> ExpiredPending()
    {
        var now = _time.GetUtcNow();
        return _book.Pending.All.Where(j => j.ExpiresAt != default && j.ExpiresAt <= now).Select(j => j.JobId);
    }

    /// <summary>
    /// Registers the re-check timer when waiting work cannot start now (no start in flight, or a start failed) and
    /// disposes it once nothing waits. It is kept while jobs wait even when starts are in flight: a busy queue would
    /// otherwise register and dispose a timer for nearly every start, and a spare tick only runs a dispatch.
    /// </summary>
    private void UpdateRecheckTimer()
    {
        if (_book.Pending.Count == 0)
        {
            _recheck?.Dispose();
            _recheck = null;
        }
        else if (_recheck is null && (_startFailed || _book.Starting.Count == 0))
        {
            _recheck = this.RegisterGrainTimer(() => { _startFailed = false; RequestDispatch(); return Task.CompletedTask; }, BlockedRecheck, BlockedRecheck);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not wake job {JobId}")]
    private partial void LogWakeFailed(Guid jobId, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not start job {JobId}; it stays queued")]
    private partial void LogStartFailed(Guid jobId, Exception exception);
}
