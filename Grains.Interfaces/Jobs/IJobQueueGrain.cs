namespace PoolAI.Jobs;

/// <summary>
/// The pending jobs of one model, keyed by model id. Hands jobs to free serving capacity in
/// priority order (higher first, then oldest first) and starts the next one the moment a slot frees.
/// </summary>
[Alias("poolai.IJobQueueGrain")]
public interface IJobQueueGrain : IGrainWithStringKey
{
    /// <summary>
    /// Adds a persisted job. Idempotent: a job already waiting or running is left as it is, so a job
    /// grain may call it on every activation. Returns why the job will wait, if no silo serves the model now.
    /// </summary>
    [Alias("Enqueue")]
    Task<string?> EnqueueAsync(Guid jobId, int priority, DateTimeOffset enqueuedAt);

    /// <summary>A started job's attempt failed and it may try again: its slot is released and it waits again.</summary>
    [Alias("Requeue")]
    Task RequeueAsync(Guid jobId, int priority, DateTimeOffset enqueuedAt);

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
