namespace PoolAI.Jobs;

/// <summary>
/// The pending jobs of one model, keyed by model id. Hands jobs to free serving capacity in
/// priority order (higher first, then oldest first) and starts the next one the moment a slot frees.
/// </summary>
[Alias("poolai.IJobQueueGrain")]
public interface IJobQueueGrain : IGrainWithStringKey
{
    /// <summary>
    /// Adds a persisted job that is <c>Queued</c>. Idempotent: a job already waiting, or being started, is left as it
    /// is, so a job grain may call it on every activation; a job the queue still counts as running (its start was cut
    /// short by a crash) waits again. Returns why the job will wait, if no silo serves the model now.
    /// </summary>
    /// <param name="jobId">The job.</param>
    /// <param name="priority">Higher first.</param>
    /// <param name="enqueuedAt">Older first within a priority.</param>
    /// <param name="expiresAt">When the job's time to live ends; the queue makes sure an expired job is told, even if nothing else wakes it.</param>
    /// <param name="excludedWorkers">Workers that must not run it; null for none.</param>
    /// <param name="requester">Who asked, for fairness between requesters and the per-requester cap.</param>
    [Alias("Enqueue")]
    Task<string?> EnqueueAsync(Guid jobId, int priority, DateTimeOffset enqueuedAt, DateTimeOffset expiresAt, IReadOnlyList<string>? excludedWorkers = null, string? requester = null);

    /// <summary>A started job's attempt failed and it may try again: its slot is released and it waits again.</summary>
    [Alias("Requeue")]
    Task RequeueAsync(Guid jobId, int priority, DateTimeOffset enqueuedAt, DateTimeOffset expiresAt, IReadOnlyList<string>? excludedWorkers = null, string? requester = null);

    /// <summary>Gives a waiting job a new priority. No-op if it is not waiting.</summary>
    [Alias("Reprioritize")]
    Task ReprioritizeAsync(Guid jobId, int priority);

    /// <summary>Removes a job that will not run (cancelled or expired while queued). No-op if absent.</summary>
    [Alias("Remove")]
    Task RemoveAsync(Guid jobId);

    /// <summary>A running job released its slot (finished, failed, cancelled or requeued).</summary>
    [Alias("Release")]
    Task ReleaseAsync(Guid jobId);

    /// <summary>Jobs waiting, jobs running, slots the serving silos offer, and why work waits if it does.</summary>
    [Alias("GetStats")]
    Task<JobQueueStats> GetStatsAsync();
}

/// <summary>A queue's counters.</summary>
/// <param name="Model">The queue's model.</param>
/// <param name="Pending">Jobs waiting.</param>
/// <param name="Running">Jobs started and not released.</param>
/// <param name="Capacity">Concurrent jobs the silos serving the model offer together.</param>
/// <param name="Blocked">Why pending work waits, if it does (e.g. "no worker serves model X").</param>
[GenerateSerializer, Immutable, Alias("poolai.JobQueueStats")]
public sealed record JobQueueStats(
    [property: Id(0)] string Model,
    [property: Id(1)] int Pending,
    [property: Id(2)] int Running,
    [property: Id(3)] int Capacity,
    [property: Id(4)] string? Blocked);
