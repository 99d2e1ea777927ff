using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orleans.Storage;
using PoolAI.Placement;
using PoolAI.Storage;

namespace PoolAI.Jobs;

/// <summary>
/// Pending jobs of one model, on a coordinator silo. Dispatch runs outside the calling turn (a job's submit awaits
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
/// Durability: an enqueue returns once the stored state holds the job (concurrent enqueues share a write,
/// <see cref="GroupCommit{T}"/>); starts, releases and removals are stored by the next write without being waited for.
/// The job grain's own state is the authority: a start the queue forgot in a crash is found again when the job answers
/// a new start with the placement it already runs on, and a release it forgot when it wakes its running jobs.
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

    private readonly IPersistentState<JobQueueState> _state;
    private readonly IServingSilos _capacity;
    private readonly Microsoft.Extensions.Options.IOptions<JobOptions> _options;
    private readonly TimeProvider _time;
    private readonly ILogger<JobQueueGrain> _logger;
    private readonly GroupCommit _writes;
    private readonly IGrainStorage _storage;
    private PagedRecords<QueuedJob> _records = null!;
    private bool _mainDirty;
    private readonly PendingJobs _pending = new();
    private readonly SlotBook _slots = new();
    private readonly HashSet<Guid> _starting = [];
    private readonly Dictionary<Guid, string> _running = [];
    private readonly Dictionary<Guid, string> _runningRequesters = [];
    private readonly Dictionary<string, int> _runningPerRequester = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _lastStarted = new(StringComparer.Ordinal);
    private readonly Queue<(Guid JobId, DateTimeOffset At)> _parking = new();
    private HashSet<Guid> _audited = [];
    private long _starts;
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
        _state = state;
        _capacity = capacity;
        _options = options;
        _time = time;
        _logger = logger;
        _storage = services.GetRequiredKeyedService<IGrainStorage>(PoolKeys.Storage);
        // Each write stores copies: calls that interleave with a write change the live indexes, never what is being written.
        _writes = new GroupCommit(WriteAsync);
    }

    private string Model => this.GetPrimaryKeyString();

    private JobQueueState State => _state.State;

    /// <inheritdoc />
    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        foreach (var jobId in State.LegacyRunning)
            State.Running.TryAdd(jobId, string.Empty);
        State.LegacyRunning.Clear();
        _records = new PagedRecords<QueuedJob>(_storage, this.GetGrainId(), PagePrefix, PageSize);
        foreach (var (page, job) in await _records.ReadAsync(State.PageCount))
        {
            // An entry of a job counted as running is stale (its removal was not stored yet); so is a second copy.
            if (!State.Running.ContainsKey(job.JobId) && !_pending.Contains(job.JobId) && _records.Pages.Load(page, job.JobId))
                _pending.Add(job);
        }

        foreach (var job in State.Pending)
        {
            // Stored before pages: moved onto pages by the next write.
            if (!State.Running.ContainsKey(job.JobId))
                AddPending(job);
        }

        foreach (var (jobId, unit) in State.Running)
            MarkRunning(jobId, unit, State.RunningRequesters.GetValueOrDefault(jobId));
        _mainDirty = State.Pending.Count > 0;
        if (_mainDirty)
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
            var suspects = _running.Keys.Where(id => _audited.Contains(id) && !_starting.Contains(id)).ToList();
            _audited = [.. _running.Keys];
            if (suspects.Count > 0)
                _ = WakeAsync(() => suspects);
            return Task.CompletedTask;
        }, _options.Value.RunningAudit, _options.Value.RunningAudit);
        _ = WakeAsync(() => _running.Keys);
        RequestDispatch();
    }

    /// <summary>The state name of the pages of waiting jobs without the page number: <c>queue-page-0</c>, <c>queue-page-1</c>, …</summary>
    public const string PagePrefix = "queue-page";

    /// <summary>
    /// Most jobs added to one page. An enqueue waits for the write of the page it was added to, so a page is written
    /// about once per few enqueues: at 64 entries (about 6 KiB) that costs far less than the job's own writes, and a
    /// backlog of 100,000 jobs is 1,563 records. Pages stored with another size are read as they are.
    /// </summary>
    public const int PageSize = 64;

    /// <inheritdoc />
    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        // Starts and releases are stored with the next write (see GroupCommit.MarkDirty); store them before going.
        if (_writes.IsDirty)
            await _writes.WriteAsync().WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing | ConfigureAwaitOptions.ContinueOnCapturedContext);
    }

    /// <summary>
    /// One write (see <see cref="GroupCommit"/>): the pages that changed and, when starts or releases changed it or the
    /// page count grew, the queue's own state. The page count is stored before any page beyond the stored count is
    /// written, so recovery reads every page that may exist.
    /// </summary>
    private async Task WriteAsync()
    {
        var storedPageCount = State.PageCount;
        var pageCountGrew = storedPageCount != _records.Pages.PageCount;
        var writeMain = _mainDirty || pageCountGrew;
        _mainDirty = false;
        if (writeMain)
        {
            State.Pending = [];
            State.Running = new(_running);
            State.RunningRequesters = new(_runningRequesters);
            State.PageCount = _records.Pages.PageCount;
        }

        var pages = _records.TakeChanges(jobId => _pending.TryGet(jobId, out var job) ? job : null);
        try
        {
            if (pageCountGrew)
                await _state.WriteStateAsync();
        }
        catch
        {
            _mainDirty = true;
            State.PageCount = storedPageCount; // so that the next write stores the count first again
            pages.Abandon();
            throw;
        }

        try
        {
            await (writeMain && !pageCountGrew ? Task.WhenAll(_state.WriteStateAsync(), pages.RunAsync()) : pages.RunAsync());
        }
        catch
        {
            _mainDirty |= writeMain && !pageCountGrew; // a failed page write marked its pages changed again
            throw;
        }
    }

    private void AddPending(QueuedJob job)
    {
        if (_pending.Add(job))
            _records.Pages.Add(job.JobId);
    }

    private bool RemovePending(Guid jobId)
    {
        if (_pending.Remove(jobId) is null)
            return false;
        _records.Pages.Remove(jobId);
        return true;
    }

    /// <inheritdoc />
    public async Task<string?> EnqueueAsync(QueuedJob job)
    {
        var running = _running.ContainsKey(job.JobId);
        var stale = running && !_starting.Contains(job.JobId);
        if (stale || (!running && !_pending.Contains(job.JobId)))
        {
            // A job that says it is queued but that the queue counts as running lost its start to a crash: it waits again.
            StopRunning(job.JobId);
            AddPending(job);
            RequestDispatch();
            _parking.Enqueue((job.JobId, _time.GetUtcNow()));
            await _writes.WriteAsync();
        }
        else if (!running)
        {
            _parking.Enqueue((job.JobId, _time.GetUtcNow())); // a parked job woken by someone: park it again once idle
        }

        _slots.Sync(_capacity.Silos(Model));
        return WaitReason(job);
    }

    /// <inheritdoc />
    public async Task<QueueAdmission> AdmitAsync(QueuedJob job)
    {
        if (!_startFailed && _starting.Count < MaxStartsInFlight && !_running.ContainsKey(job.JobId) && !_pending.Contains(job.JobId)
            && UnderCap(job.Requester))
        {
            _slots.Sync(_capacity.Silos(Model));
            // Only when no waiting job could take a free slot now: one that waits for capacity no silo offers (a cuda
            // job on a CPU pool, a check job whose only worker is excluded) or whose requester is at the cap does not
            // stop the jobs that fit from starting at once, and one that could start keeps its turn.
            if ((_pending.Count == 0 || NextStart() is null) && _slots.Pick(job) is { } unit)
            {
                // It takes the slot now. Stored as running before the job hears it, so a crash after the answer finds
                // it counted, and the job (still Queued in its own storage) waits again.
                MarkRunning(job.JobId, unit.Key, job.Requester);
                _lastStarted[job.Requester ?? string.Empty] = ++_starts;
                try
                {
                    await _writes.WriteAsync();
                    return new QueueAdmission(new JobPlacement(unit.Silo, unit.Worker, unit.Device), null);
                }
                catch (Exception)
                {
                    // Not stored: the slot is given back and the job waits like any enqueued one (a resubmit of its id
                    // only reads the job back, so it must not be left out of the queue).
                    StopRunning(job.JobId);
                }
            }
        }

        return new QueueAdmission(null, await EnqueueAsync(job));
    }

    private bool UnderCap(string? requester)
    {
        var cap = _options.Value.MaxRunningPerRequester;
        return cap <= 0 || _runningPerRequester.GetValueOrDefault(requester ?? string.Empty) < cap;
    }

    /// <inheritdoc />
    public async Task RequeueAsync(QueuedJob job)
    {
        StopRunning(job.JobId);
        AddPending(job);
        RequestDispatch();
        _parking.Enqueue((job.JobId, _time.GetUtcNow()));
        await _writes.WriteAsync();
    }

    /// <inheritdoc />
    public async Task ReprioritizeAsync(Guid jobId, int priority)
    {
        if (!_pending.TryGet(jobId, out var job) || job.Priority == priority)
            return;
        RemovePending(jobId);
        AddPending(job with { Priority = priority });
        RequestDispatch();
        await _writes.WriteAsync();
    }

    /// <inheritdoc />
    public Task RemoveAsync(Guid jobId)
    {
        // The job's own state says it will not run; a removal lost in a crash is caught when its start is refused.
        if (RemovePending(jobId))
            _writes.MarkDirty();
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task ReleaseAsync(Guid jobId)
    {
        if (StopRunning(jobId))
            _writes.MarkDirty();
        RequestDispatch();
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task<JobQueueStats> GetStatsAsync()
    {
        _slots.Sync(_capacity.Silos(Model));
        var blocked = _pending.Count == 0 ? null : _pending.Heads(_runningPerRequester, _lastStarted, _time.GetUtcNow(), _options.Value.AgeingInterval).Select(WaitReason).FirstOrDefault(r => r is not null);
        return Task.FromResult(new JobQueueStats(Model, _pending.Count, _running.Count, _slots.TotalSlots, blocked));
    }

    /// <summary>Why <paramref name="job"/> cannot run anywhere now (no silo serves the model, or none that fits it), or null.</summary>
    private string? WaitReason(QueuedJob job)
    {
        if (_slots.TotalSlots == 0)
            return $"no worker serves model {Model}";
        if (_slots.AnyAccepts(job))
            return null;
        return job.Requirements is { IsEmpty: false } requirements
            ? $"no worker serving model {Model} meets the job's requirements ({requirements})"
            : $"every worker serving model {Model} is excluded for this job";
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
            _slots.Sync(_capacity.Silos(Model));
            var started = false;
            while (!_startFailed && _starting.Count < MaxStartsInFlight && NextStart() is ({ } job, { } unit))
            {
                RemovePending(job.JobId);
                MarkRunning(job.JobId, unit.Key, job.Requester);
                _lastStarted[job.Requester ?? string.Empty] = ++_starts;
                _starting.Add(job.JobId);
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
            _starting.Remove(job.JobId);
            StopRunning(job.JobId);
            AddPending(job);
            _startFailed = true;
            _writes.MarkDirty();
            UpdateRecheckTimer();
            return;
        }

        _starting.Remove(job.JobId);
        if (placed is null)
        {
            StopRunning(job.JobId); // final or no longer queued: the reserved slot is free again
            _writes.MarkDirty();
        }
        else if (ServingSilo.UnitKey(placed.Silo, placed.Worker) is var key && key != unit.Key)
        {
            // It was already running elsewhere (its start was forgotten in a crash): count the slot it really holds.
            StopRunning(job.JobId);
            MarkRunning(job.JobId, key, job.Requester);
            _writes.MarkDirty();
        }

        if (placed is null || _pending.Count > 0)
            RequestDispatch();
    }

    /// <summary>
    /// The first waiting job in dispatch order that a unit with a free slot may run, with that unit; null when none. A
    /// job whose requester is at the cap, or that no free unit fits (requirements, excluded workers), is passed over
    /// with its whole bucket, not blocking the jobs behind it.
    /// </summary>
    private (QueuedJob Job, ServingSilo Unit)? NextStart()
    {
        if (_pending.Count == 0 || _slots.TotalSlots == 0)
            return null;
        foreach (var job in _pending.Heads(_runningPerRequester, _lastStarted, _time.GetUtcNow(), _options.Value.AgeingInterval))
        {
            if (!UnderCap(job.Requester))
                continue; // its requester is at the cap: the jobs behind it may run
            if (_slots.Pick(job) is { } unit)
                return (job, unit);
            if (job.ConstraintKey.Length == 0)
                return null; // no free slot at all
        }

        return null;
    }

    private void MarkRunning(Guid jobId, string unitKey, string? requester)
    {
        _mainDirty = true;
        _running[jobId] = unitKey;
        _slots.Take(unitKey);
        if (requester is not null)
        {
            _runningRequesters[jobId] = requester;
            _runningPerRequester[requester] = _runningPerRequester.GetValueOrDefault(requester) + 1;
        }
    }

    /// <summary>Forgets that <paramref name="jobId"/> runs; true when it did.</summary>
    private bool StopRunning(Guid jobId)
    {
        if (_runningRequesters.Remove(jobId, out var requester))
        {
            var left = _runningPerRequester.GetValueOrDefault(requester) - 1;
            if (left <= 0)
                _runningPerRequester.Remove(requester);
            else
                _runningPerRequester[requester] = left;
        }

        if (!_running.Remove(jobId, out var unit))
            return false;
        _mainDirty = true;
        _slots.Free(unit);
        return true;
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
                if (view.Status.IsFinal() && !_starting.Contains(jobId) && StopRunning(jobId))
                {
                    // It finished but its release was lost with a crash: the slot is free.
                    _writes.MarkDirty();
                    RequestDispatch();
                }
            }
            catch (KeyNotFoundException)
            {
                // No such job (its record is gone): nothing runs on the slot it was counted on.
                if (!_starting.Contains(jobId) && StopRunning(jobId))
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
            if (_pending.Contains(next.JobId))
                GrainFactory.Reference<IJobGrain>(next.JobId).ParkAsync().Ignore();
        }
    }

    private IEnumerable<Guid> ExpiredPending()
    {
        var now = _time.GetUtcNow();
        return _pending.All.Where(j => j.ExpiresAt != default && j.ExpiresAt <= now).Select(j => j.JobId);
    }

    /// <summary>
    /// Registers the re-check timer when waiting work cannot start now (no start in flight, or a start failed) and
    /// disposes it once nothing waits. It is kept while jobs wait even when starts are in flight: a busy queue would
    /// otherwise register and dispose a timer for nearly every start, and a spare tick only runs a dispatch.
    /// </summary>
    private void UpdateRecheckTimer()
    {
        if (_pending.Count == 0)
        {
            _recheck?.Dispose();
            _recheck = null;
        }
        else if (_recheck is null && (_startFailed || _starting.Count == 0))
        {
            _recheck = this.RegisterGrainTimer(() => { _startFailed = false; RequestDispatch(); return Task.CompletedTask; }, BlockedRecheck, BlockedRecheck);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not wake job {JobId}")]
    private partial void LogWakeFailed(Guid jobId, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not start job {JobId}; it stays queued")]
    private partial void LogStartFailed(Guid jobId, Exception exception);
}
