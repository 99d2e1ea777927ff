namespace PoolAI.Jobs;

/// <summary>
/// Where a job is in its life: <c>Queued → Assigned → Running → Succeeded | Failed | Cancelled | Expired</c>.
/// The allowed moves are defined by <c>JobStateMachine</c> in the Grains project.
/// </summary>
public enum JobStatus
{
    /// <summary>Accepted and persisted, waiting for capacity.</summary>
    Queued = 0,

    /// <summary>Handed to a silo that serves its model; not producing output yet.</summary>
    Assigned = 1,

    /// <summary>Producing output on a silo.</summary>
    Running = 2,

    /// <summary>Finished with a result. Final.</summary>
    Succeeded = 3,

    /// <summary>Finished without a result; the job's error says why. Final.</summary>
    Failed = 4,

    /// <summary>Cancelled by its requester or an admin. Final.</summary>
    Cancelled = 5,

    /// <summary>Its time to live ran out before it finished. Final.</summary>
    Expired = 6,
}

/// <summary>Helpers on <see cref="JobStatus"/>.</summary>
public static class JobStatusExtensions
{
    /// <summary>True for the states a job never leaves.</summary>
    public static bool IsFinal(this JobStatus status) =>
        status is JobStatus.Succeeded or JobStatus.Failed or JobStatus.Cancelled or JobStatus.Expired;
}
