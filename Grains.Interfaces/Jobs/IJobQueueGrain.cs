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
    /// short by a crash) waits again. Returns once the queue's stored state holds the job (writes of concurrent calls
    /// are committed together), with why the job will wait if no silo serves the model, or none meeting its
    /// requirements, now.
    /// </summary>
    /// <param name="job">The job: id, priority, enqueue time (older first within a priority), expiry (the queue makes
    /// sure an expired job is told, even if nothing else wakes it), excluded workers, requester (fairness and the
    /// per-requester cap) and requirements.</param>
    [Alias("Enqueue")]
    Task<string?> EnqueueAsync(QueuedJob job);

    /// <summary>
    /// A newly accepted job asks to run: when no waiting job could take a free slot now (nothing waits, or what waits
    /// needs capacity no free unit offers or belongs to a requester at the cap) and a unit that accepts the job has a
    /// free slot (and its requester is under the cap), the slot is taken for it and the answer carries the placement — the job
    /// starts its attempt itself, so a pool with free capacity starts a job without a queue entry or a start call.
    /// Otherwise the job is enqueued exactly as by <see cref="EnqueueAsync"/>, and the answer carries why it will wait
    /// if it cannot run anywhere now. Either way the answer comes once the queue's stored state holds the job (waiting,
    /// or counted as running). A job given a placement must release it (<see cref="ReleaseAsync"/>) as a started one does.
    /// </summary>
    [Alias("Admit")]
    Task<QueueAdmission> AdmitAsync(QueuedJob job);

    /// <summary>A started job's attempt failed and it may try again: its slot is released and it waits again.</summary>
    [Alias("Requeue")]
    Task RequeueAsync(QueuedJob job);

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

/// <summary>A queue's answer to <see cref="IJobQueueGrain.AdmitAsync"/>: a placement to start on now, or why the job waits (null: it waits for a slot).</summary>
/// <param name="StartOn">Where the job runs now (its slot is taken); null when it was enqueued.</param>
/// <param name="BlockedReason">For an enqueued job, why it cannot run anywhere now; null when it only waits its turn.</param>
[GenerateSerializer, Immutable, Alias("poolai.QueueAdmission")]
public sealed record QueueAdmission([property: Id(0)] JobPlacement? StartOn, [property: Id(1)] string? BlockedReason);

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
