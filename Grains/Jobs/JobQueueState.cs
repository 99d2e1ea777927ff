namespace PoolAI.Jobs;

/// <summary>A queue grain's persisted state (state name <c>queue</c>).</summary>
[GenerateSerializer, Alias("poolai.JobQueueState")]
public sealed class JobQueueState
{
    /// <summary>Jobs waiting, as queues stored them before pages (<see cref="PageCount"/>); moved onto pages when the queue activates.</summary>
    [Id(0)] public List<QueuedJob> Pending { get; set; } = [];

    /// <summary>Running jobs as queues stored them before placements were kept; <see cref="JobQueueGrain"/> moves them into <see cref="Running"/> when it activates.</summary>
    [Id(1)] public HashSet<Guid> LegacyRunning { get; set; } = [];

    /// <summary>Jobs started whose slot is not released yet, each with the silo it holds the slot on (as <see cref="SiloAddress.ToString"/> writes it; empty when not known).</summary>
    [Id(2)] public Dictionary<Guid, string> Running { get; set; } = [];

    /// <summary>The requester of each running job, for fairness and the per-requester cap.</summary>
    [Id(3)] public Dictionary<Guid, string> RunningRequesters { get; set; } = [];

    /// <summary>Page ids the waiting jobs may be stored on: records <c>queue-page-0</c> … <c>queue-page-(PageCount − 1)</c>
    /// of the same grain (see <see cref="Storage.PagedRecords{TEntry}"/>), unordered; dispatch order is decided by
    /// <see cref="JobQueueOrder"/>.</summary>
    [Id(4)] public int PageCount { get; set; }
}

/// <summary>
/// Dispatch order: higher effective priority first (the job's priority plus one for every ageing interval it has
/// waited, but never above the highest priority waiting — ageing lifts low priority up to the others, it does not
/// reorder jobs of equal priority, which would let an old flood pass a newcomer); within it, round robin between requesters — the one with fewer jobs running, then the one served least
/// recently — so that one requester's flood delays another's job by at most one freeing slot per worker; then the
/// oldest; then by id so the order is total.
/// </summary>
public static class JobQueueOrder
{
    /// <summary>
    /// Waiting jobs in dispatch order as of <paramref name="now"/>, given each requester's running jobs and the
    /// sequence number of its last start (higher = more recent; absent = never).
    /// </summary>
    public static IEnumerable<QueuedJob> Ordered(IReadOnlyCollection<QueuedJob> pending, IReadOnlyDictionary<string, int> running, IReadOnlyDictionary<string, long> lastStarted, DateTimeOffset now, TimeSpan ageingInterval) =>
        Ordered(pending, running, lastStarted, now, ageingInterval, pending.Count == 0 ? 0 : pending.Max(j => j.Priority));

    /// <summary>As <see cref="Ordered(IReadOnlyCollection{QueuedJob}, IReadOnlyDictionary{string, int}, IReadOnlyDictionary{string, long}, DateTimeOffset, TimeSpan)"/>, with the highest waiting priority <paramref name="top"/> given (it may be a job not in <paramref name="pending"/>).</summary>
    public static IEnumerable<QueuedJob> Ordered(IReadOnlyCollection<QueuedJob> pending, IReadOnlyDictionary<string, int> running, IReadOnlyDictionary<string, long> lastStarted, DateTimeOffset now, TimeSpan ageingInterval, int top)
    {
        return pending.OrderByDescending(j => EffectivePriority(j, top, now, ageingInterval))
            .ThenBy(j => running.GetValueOrDefault(j.Requester ?? string.Empty))
            .ThenBy(j => lastStarted.GetValueOrDefault(j.Requester ?? string.Empty))
            .ThenBy(j => j.EnqueuedAt)
            .ThenBy(j => j.JobId);
    }

    /// <summary>
    /// The job's priority plus one for every <paramref name="ageingInterval"/> it has waited by <paramref name="now"/>,
    /// at most <paramref name="top"/> (the highest priority waiting).
    /// </summary>
    public static long EffectivePriority(QueuedJob job, int top, DateTimeOffset now, TimeSpan ageingInterval) =>
        now <= job.EnqueuedAt || ageingInterval == TimeSpan.MaxValue || job.Priority >= top
            ? job.Priority
            : Math.Min(top, job.Priority + (long)((now - job.EnqueuedAt) / ageingInterval));
}
