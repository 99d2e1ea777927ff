using PoolAI.Storage;

namespace PoolAI.Jobs;

/// <summary>
/// What a job queue knows in memory and decides from: its waiting jobs (<see cref="PendingJobs"/>, in dispatch order),
/// the slots of the units that run its kind and target (<see cref="SlotBook"/>), the jobs it counts as running on
/// which unit, and each requester's running jobs and last start (fairness and the per-requester cap). A plain class:
/// the queue grain persists it and calls jobs; every rule of who starts where is here, with its own tests.
/// </summary>
/// <param name="queue">The queue's key (<see cref="JobQueueKeys"/>), for its wait reasons.</param>
/// <param name="pages">Which storage page holds which waiting job; kept in step as jobs come and go.</param>
/// <param name="maxRunningPerRequester">Most jobs of one requester running at once; 0 for no cap.</param>
/// <param name="ageingInterval">Waiting this long raises a job's effective priority by one (see <see cref="JobQueueOrder"/>).</param>
public sealed class QueueBook(string queue, StoragePages pages, int maxRunningPerRequester, TimeSpan ageingInterval)
{
    private readonly Dictionary<Guid, string> _running = [];
    private readonly Dictionary<Guid, string> _runningRequesters = [];
    private readonly Dictionary<string, int> _runningPerRequester = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _lastStarted = new(StringComparer.Ordinal);
    private readonly string _what = Describe(queue);
    private long _starts;

    /// <summary>The waiting jobs.</summary>
    public PendingJobs Pending { get; } = new();

    /// <summary>The units' slots, as last synced.</summary>
    public SlotBook Slots { get; } = new();

    /// <summary>Jobs being started now (their job has not answered the start yet).</summary>
    public HashSet<Guid> Starting { get; } = [];

    /// <summary>Jobs counted as running, each with the unit whose slot it holds.</summary>
    public IReadOnlyDictionary<Guid, string> Running => _running;

    /// <summary>The requester of each running job.</summary>
    public IReadOnlyDictionary<Guid, string> RunningRequesters => _runningRequesters;

    /// <summary>True when running jobs changed since <see cref="TakeRunningChanged"/> (the queue's own record must be written).</summary>
    public bool RunningChanged { get; private set; }

    /// <summary>Returns and clears <see cref="RunningChanged"/>.</summary>
    public bool TakeRunningChanged()
    {
        var changed = RunningChanged;
        RunningChanged = false;
        return changed;
    }

    /// <summary>Marks the running jobs changed (a write that included them failed).</summary>
    public void MarkRunningChanged() => RunningChanged = true;

    /// <summary>Adds a waiting job (and to its storage page); false when it already waits.</summary>
    public bool AddPending(QueuedJob job)
    {
        if (!Pending.Add(job))
            return false;
        pages.Add(job.JobId);
        return true;
    }

    /// <summary>Removes a waiting job (and from its page); false when it was not waiting.</summary>
    public bool RemovePending(Guid jobId)
    {
        if (Pending.Remove(jobId) is null)
            return false;
        pages.Remove(jobId);
        return true;
    }

    /// <summary>Counts <paramref name="jobId"/> as running on <paramref name="unitKey"/> for <paramref name="requester"/>: its slot is taken.</summary>
    public void MarkRunning(Guid jobId, string unitKey, string? requester)
    {
        RunningChanged = true;
        _running[jobId] = unitKey;
        Slots.Take(unitKey);
        if (requester is not null)
        {
            _runningRequesters[jobId] = requester;
            _runningPerRequester[requester] = _runningPerRequester.GetValueOrDefault(requester) + 1;
        }
    }

    /// <summary>Counts a start for <paramref name="requester"/> (round robin between requesters prefers those served least recently).</summary>
    public void CountStart(string? requester) => _lastStarted[requester ?? string.Empty] = ++_starts;

    /// <summary>Forgets that <paramref name="jobId"/> runs and frees its slot; true when it did run.</summary>
    public bool StopRunning(Guid jobId)
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
        RunningChanged = true;
        Slots.Free(unit);
        return true;
    }

    /// <summary>True when <paramref name="requester"/> runs fewer jobs than the cap (or there is none).</summary>
    public bool UnderCap(string? requester) =>
        maxRunningPerRequester <= 0 || _runningPerRequester.GetValueOrDefault(requester ?? string.Empty) < maxRunningPerRequester;

    /// <summary>The waiting jobs at the head of their buckets, in dispatch order as of <paramref name="now"/>.</summary>
    public IEnumerable<QueuedJob> Heads(DateTimeOffset now) => Pending.Heads(_runningPerRequester, _lastStarted, now, ageingInterval);

    /// <summary>
    /// The first waiting job in dispatch order that a unit with a free slot may run, with that unit; null when none. A
    /// job whose requester is at the cap, or that no free unit fits (requirements, excluded workers), is passed over
    /// with its whole bucket, not blocking the jobs behind it.
    /// </summary>
    public (QueuedJob Job, ServingSilo Unit)? NextStart(DateTimeOffset now)
    {
        if (Pending.Count == 0 || Slots.TotalSlots == 0)
            return null;
        foreach (var job in Heads(now))
        {
            if (!UnderCap(job.Requester))
                continue; // its requester is at the cap: the jobs behind it may run
            if (Slots.Pick(job) is { } unit)
                return (job, unit);
            if (job.ConstraintKey.Length == 0)
                return null; // no free slot at all
        }

        return null;
    }

    /// <summary>
    /// The unit a newly accepted job starts on at once, its slot taken (and the start counted); null when it must wait
    /// in line. Only when no waiting job could take a free slot now: one that waits for capacity no silo offers (a cuda
    /// job on a CPU pool, a check job whose only worker is excluded) or whose requester is at the cap does not stop the
    /// jobs that fit from starting at once, and one that could start keeps its turn.
    /// </summary>
    public ServingSilo? Admit(QueuedJob job, DateTimeOffset now)
    {
        if (_running.ContainsKey(job.JobId) || Pending.Contains(job.JobId) || !UnderCap(job.Requester))
            return null;
        if ((Pending.Count > 0 && NextStart(now) is not null) || Slots.Pick(job) is not { } unit)
            return null;
        MarkRunning(job.JobId, unit.Key, job.Requester);
        CountStart(job.Requester);
        return unit;
    }

    /// <summary>
    /// Settles a start in flight with the job's answer: <paramref name="placed"/> null (the job is final or no longer
    /// queued) frees the reserved slot; a placement on another unit (the job already ran there, its start forgotten in a
    /// crash) moves the count to the slot it really holds. Returns whether the book changed.
    /// </summary>
    public bool EndStart(QueuedJob job, ServingSilo unit, JobPlacement? placed)
    {
        Starting.Remove(job.JobId);
        if (placed is null)
            return StopRunning(job.JobId);
        var key = ServingSilo.UnitKey(placed.Silo, placed.Worker);
        if (key == unit.Key)
            return false;
        StopRunning(job.JobId);
        MarkRunning(job.JobId, key, job.Requester);
        return true;
    }

    /// <summary>A start in flight failed (the job could not be reached): the job waits again and its slot is free.</summary>
    public void FailStart(QueuedJob job)
    {
        Starting.Remove(job.JobId);
        StopRunning(job.JobId);
        AddPending(job);
    }

    /// <summary>Takes <paramref name="job"/> off the waiting list onto <paramref name="unit"/>'s slot as a start in flight.</summary>
    public void BeginStart(QueuedJob job, ServingSilo unit)
    {
        RemovePending(job.JobId);
        MarkRunning(job.JobId, unit.Key, job.Requester);
        CountStart(job.Requester);
        Starting.Add(job.JobId);
    }

    /// <summary>Why <paramref name="job"/> cannot run anywhere now (nothing runs the queue's kind on its target, or nothing that fits it), or null.</summary>
    public string? WaitReason(QueuedJob job)
    {
        if (Slots.TotalSlots == 0)
            return $"no worker serves {_what}";
        if (Slots.AnyAccepts(job))
            return null;
        if (job.TrustedOnly && Slots.Units.All(unit => unit.Open))
            return $"only open miners serve {_what}, and the job may run on trusted silos only (trust 'trusted')";
        return job.Requirements is { IsEmpty: false } requirements
            ? $"no worker serving {_what} meets the job's requirements ({requirements})"
            : $"every worker serving {_what} is excluded for this job";
    }

    /// <summary>The queue's work in words: <c>model X</c> for text and code, <c>system task X</c>, or <c>KIND X</c>.</summary>
    private static string Describe(string queue)
    {
        var (kind, target) = JobQueueKeys.Parse(queue);
        if (kind == JobKind.TextGeneration || kind == JobKind.CodeGeneration)
            return $"model {target}";
        return kind == JobKind.System ? $"system task {target}" : $"{kind} {target}";
    }
}
