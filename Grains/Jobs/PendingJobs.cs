namespace PoolAI.Jobs;

/// <summary>
/// A queue's waiting jobs, indexed for dispatch. Jobs are kept in buckets of the same priority, requester and
/// constraints (<see cref="QueuedJob.ConstraintKey"/>), each bucket ordered oldest first. Within a bucket the oldest job
/// comes first in <see cref="JobQueueOrder"/> (same priority, same requester, and ageing only lifts older jobs), and every
/// job of a bucket fits the same silos; so the next job to start is always a bucket's head, and dispatch looks at the
/// heads only: O(B log B) per start for B buckets (requesters × priorities × constraint sets), not O(n log n) for n
/// waiting jobs. Adding and removing a job cost O(log n).
/// </summary>
public sealed class PendingJobs
{
    private static readonly IComparer<QueuedJob> Oldest = Comparer<QueuedJob>.Create((a, b) =>
    {
        var byTime = a.EnqueuedAt.CompareTo(b.EnqueuedAt);
        return byTime != 0 ? byTime : a.JobId.CompareTo(b.JobId);
    });

    private readonly Dictionary<Guid, QueuedJob> _jobs = [];
    private readonly Dictionary<(int Priority, string Requester, string Constraints), SortedSet<QueuedJob>> _buckets = [];
    private readonly SortedDictionary<int, int> _priorities = [];

    /// <summary>Jobs waiting.</summary>
    public int Count => _jobs.Count;

    /// <summary>Every waiting job, in no particular order.</summary>
    public IEnumerable<QueuedJob> All => _jobs.Values;

    /// <summary>True when <paramref name="jobId"/> waits.</summary>
    public bool Contains(Guid jobId) => _jobs.ContainsKey(jobId);

    /// <summary>The waiting job <paramref name="jobId"/>, if it waits.</summary>
    public bool TryGet(Guid jobId, out QueuedJob job) => _jobs.TryGetValue(jobId, out job!);

    /// <summary>Adds <paramref name="job"/>; false (and nothing changes) when a job with its id already waits.</summary>
    public bool Add(QueuedJob job)
    {
        if (!_jobs.TryAdd(job.JobId, job))
            return false;
        var key = KeyOf(job);
        if (!_buckets.TryGetValue(key, out var bucket))
            _buckets[key] = bucket = new SortedSet<QueuedJob>(Oldest);
        bucket.Add(job);
        _priorities[job.Priority] = _priorities.GetValueOrDefault(job.Priority) + 1;
        return true;
    }

    /// <summary>Removes <paramref name="jobId"/>; the removed job, or null when it was not waiting.</summary>
    public QueuedJob? Remove(Guid jobId)
    {
        if (!_jobs.Remove(jobId, out var job))
            return null;
        var key = KeyOf(job);
        var bucket = _buckets[key];
        bucket.Remove(job);
        if (bucket.Count == 0)
            _buckets.Remove(key);
        if (--_priorities[job.Priority] == 0)
            _priorities.Remove(job.Priority);
        return job;
    }

    /// <summary>Removes every job.</summary>
    public void Clear()
    {
        _jobs.Clear();
        _buckets.Clear();
        _priorities.Clear();
    }

    /// <summary>
    /// The head of every bucket, in <see cref="JobQueueOrder"/> as of <paramref name="now"/>: the first job is the one
    /// <see cref="JobQueueOrder"/> would put first among all waiting jobs, and when a head cannot start (its
    /// requester is at its cap, or no free silo fits its constraints) the rest of its bucket cannot either.
    /// </summary>
    public IEnumerable<QueuedJob> Heads(IReadOnlyDictionary<string, int> running, IReadOnlyDictionary<string, long> lastStarted, DateTimeOffset now, TimeSpan ageingInterval)
    {
        if (_buckets.Count == 0)
            return [];
        var heads = new List<QueuedJob>(_buckets.Count);
        foreach (var bucket in _buckets.Values)
            heads.Add(bucket.Min!);
        return heads.Count == 1 ? heads : JobQueueOrder.Ordered(heads, running, lastStarted, now, ageingInterval, _priorities.Keys.Last());
    }

    private static (int, string, string) KeyOf(QueuedJob job) => (job.Priority, job.Requester ?? string.Empty, job.ConstraintKey);
}
