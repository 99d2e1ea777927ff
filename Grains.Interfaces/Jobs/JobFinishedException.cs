namespace PoolAI.Jobs;

/// <summary>
/// A change asked of a job that has finished (cancel, re-prioritise): a conflict with the job's state, not bad input.
/// The HTTP API answers 409 and the CLI exits 4; nothing changes.
/// </summary>
[GenerateSerializer, Alias("poolai.JobFinishedException")]
public sealed class JobFinishedException : Exception
{
    /// <summary>Creates the error for job <paramref name="jobId"/>, which ended <paramref name="status"/>, refusing <paramref name="change"/>.</summary>
    public JobFinishedException(Guid jobId, JobStatus status, string change)
        : base($"job {jobId} has finished ({status}); {change}")
    {
        JobId = jobId;
        Status = status;
    }

    /// <summary>The job.</summary>
    [Id(0)]
    public Guid JobId { get; }

    /// <summary>Its final status.</summary>
    [Id(1)]
    public JobStatus Status { get; }
}
