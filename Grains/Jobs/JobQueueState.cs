namespace PoolAI.Jobs;

/// <summary>A queue grain's persisted state (state name <c>queue</c>).</summary>
[GenerateSerializer, Alias("poolai.JobQueueState")]
public sealed class JobQueueState
{
    /// <summary>Jobs waiting, unordered; dispatch order is decided by <see cref="JobQueueOrder"/>.</summary>
    [Id(0)] public List<QueuedJob> Pending { get; set; } = [];

    /// <summary>Running jobs as queues stored them before placements were kept; <see cref="JobQueueGrain"/> moves them into <see cref="Running"/> when it activates.</summary>
    [Id(1)] public HashSet<Guid> LegacyRunning { get; set; } = [];

    /// <summary>Jobs started whose slot is not released yet, each with the silo it holds the slot on (as <see cref="SiloAddress.ToString"/> writes it; empty when not known).</summary>
    [Id(2)] public Dictionary<Guid, string> Running { get; set; } = [];
}

/// <summary>A waiting job.</summary>
/// <param name="JobId">The job.</param>
/// <param name="Priority">Higher first.</param>
/// <param name="EnqueuedAt">Older first within a priority.</param>
/// <param name="ExpiresAt">When its time to live ends.</param>
/// <param name="ExcludedWorkers">Workers that must not run it; null for none.</param>
[GenerateSerializer, Immutable, Alias("poolai.QueuedJob")]
public sealed record QueuedJob(
    [property: Id(0)] Guid JobId,
    [property: Id(1)] int Priority,
    [property: Id(2)] DateTimeOffset EnqueuedAt,
    [property: Id(3)] DateTimeOffset ExpiresAt = default,
    [property: Id(4)] IReadOnlyList<string>? ExcludedWorkers = null);

/// <summary>Dispatch order: higher priority first, then the oldest, then by id so the order is total.</summary>
public static class JobQueueOrder
{
    /// <summary>The job to run next, or null when none waits.</summary>
    public static QueuedJob? Next(IEnumerable<QueuedJob> pending) => Ordered(pending).FirstOrDefault();

    /// <summary>Waiting jobs in dispatch order.</summary>
    public static IEnumerable<QueuedJob> Ordered(IEnumerable<QueuedJob> pending) =>
        pending.OrderByDescending(j => j.Priority).ThenBy(j => j.EnqueuedAt).ThenBy(j => j.JobId);
}
