using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orleans.Storage;
using PoolAI.Placement;
using PoolAI.Storage;

namespace PoolAI.Jobs;

/// <summary>
/// Pending jobs of one kind on one target (keyed by <see cref="JobQueueKeys"/>), on a coordinator silo: who starts where
/// is decided by its <see cref="QueueBook"/>, how it is stored by its <see cref="QueueStore"/>, recovery, expiry and
/// parking by its <see cref="QueueUpkeep"/>. Dispatch runs outside the calling turn (a job's submit awaits
/// <see cref="EnqueueAsync"/>, and dispatch calls back into jobs), one loop at a time; a released slot or a new job
/// triggers it at once. Starts are pipelined: up to <see cref="MaxStartsInFlight"/> jobs are being started at once, each
/// on a slot the queue reserved first. While work waits for capacity that no silo offers, a timer re-checks the cluster
/// every <see cref="BlockedRecheck"/> so a miner that joins gets work.
/// <para>
/// Reentrant: a handler makes its whole change to the in-memory book before it awaits (the write of an enqueue, say),
/// so calls interleave at those awaits without seeing half a change, and an enqueue waiting for its write does not
/// hold up the releases and enqueues behind it (they share the next write).
/// </para>
/// </summary>
[CoordinatorFilter]
[Reentrant] // every handler changes its in-memory state before its first await; awaits are only writes and job calls
public sealed partial class JobQueueGrain : Grain, IJobQueueGrain
{
    /// <summary>How often a blocked queue looks for new capacity.</summary>
    public static readonly TimeSpan BlockedRecheck = TimeSpan.FromSeconds(1);

    /// <summary>Most job starts awaiting their job's answer at once.</summary>
    public const int MaxStartsInFlight = 256;

    private readonly IServingSilos _capacity;
    private readonly JobOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<JobQueueGrain> _logger;
    private readonly QueueStore _store;
    private readonly GroupCommit _writes;
    private QueueBook _book = null!;
    private QueueUpkeep _upkeep = null!;
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

        _upkeep = new QueueUpkeep(_book, GrainFactory, _time, () =>
        {
            _writes.MarkDirty();
            RequestDispatch();
        }, _logger);
        this.RegisterGrainTimer(() =>
        {
            _writes.Flush();
            _upkeep.Sweep();
            return Task.CompletedTask;
        }, QueueUpkeep.ExpirySweep, QueueUpkeep.ExpirySweep);
        this.RegisterGrainTimer(() =>
        {
            _upkeep.Audit();
            return Task.CompletedTask;
        }, _options.RunningAudit, _options.RunningAudit);
        _upkeep.WakeRunning();
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
            _upkeep.Waiting(job.JobId);
            await _writes.WriteAsync();
        }
        else if (!running)
        {
            _upkeep.Waiting(job.JobId); // a parked job woken by someone: park it again once idle
        }

        _book.Slots.Sync(_capacity.Silos(Key));
        return _book.WaitReason(job);
    }

    /// <inheritdoc />
    public async Task<QueueAdmission> AdmitAsync(QueuedJob job)
    {
        if (!_startFailed && _book.Starting.Count < MaxStartsInFlight)
        {
            _book.Slots.Sync(_capacity.Silos(Key));
            if (_book.Admit(job, _time.GetUtcNow()) is { } unit)
            {
                // Stored as running before the job hears it, so a crash after the answer finds it counted, and the job
                // (still Queued in its own storage) waits again.
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
        _upkeep.Waiting(job.JobId);
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
            _book.FailStart(job);
            _startFailed = true;
            _writes.MarkDirty();
            UpdateRecheckTimer();
            return;
        }

        if (_book.EndStart(job, unit, placed))
            _writes.MarkDirty();
        if (placed is null || _book.Pending.Count > 0)
            RequestDispatch();
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

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not start job {JobId}; it stays queued")]
    private partial void LogStartFailed(Guid jobId, Exception exception);
}
