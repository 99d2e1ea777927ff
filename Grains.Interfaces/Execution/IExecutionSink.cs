using PoolAI.Jobs;

namespace PoolAI.Execution;

/// <summary>
/// The holder of a job attempt's lease (the job grain), which the executing silo reports to while the attempt runs:
/// streamed output and progress, checkpoints, lease renewals, and a hand-back when the silo stops.
/// </summary>
[Alias("poolai.IExecutionSink")]
public interface IExecutionSink : IAddressable
{
    /// <summary>
    /// New streamed output and/or progress. The executing silo sends updates one after another in the background
    /// (the work never waits for them) and waits for the last one before it answers the run, so the job holds all the
    /// attempt's output before its result. Updates carry offsets all the same: a resent or late one is placed, not appended.
    /// </summary>
    [Alias("OnUpdate")]
    Task OnUpdateAsync(ExecutionUpdate update);

    /// <summary>
    /// Renews the lease of attempt <paramref name="attempt"/>, which runs on <paramref name="silo"/>. The executing silo
    /// calls it every <see cref="ExecutionRequest.LeaseInterval"/> from the moment it takes the request (model loading
    /// included). Returns false when the attempt is no longer current (the job was requeued, cancelled, expired or
    /// finished): the silo then stops the work, so abandoned work never holds a slot.
    /// </summary>
    [Alias("RenewLease")]
    Task<bool> RenewLeaseAsync(int attempt, string silo);

    /// <summary>
    /// Records <paramref name="checkpoint"/> (its artifact already stored) as the job's latest, so a later attempt
    /// resumes from it and a cancelled job keeps it. Returns false, recording nothing, when the attempt is no longer current.
    /// </summary>
    [Alias("Checkpoint")]
    Task<bool> CheckpointAsync(int attempt, JobCheckpoint checkpoint);

    /// <summary>Adds <paramref name="artifact"/> (already stored) to the job's artifacts and holds it for the job's retention.
    /// Returns false, recording nothing, when the attempt is no longer current.</summary>
    [Alias("AddArtifact")]
    Task<bool> AddArtifactAsync(int attempt, ArtifactRef artifact);

    /// <summary>
    /// Says that <paramref name="silo"/>, stopping gracefully, gives attempt <paramref name="attempt"/> back unfinished.
    /// The silo awaits this before it answers the run call with <see cref="WorkHandedBackException"/>, because that
    /// answer may be lost when the silo stops right after sending it (the caller then sees only
    /// <c>SiloUnavailableException</c>). The holder requeues the job without counting the attempt; a call for an
    /// attempt that is no longer current is ignored.
    /// </summary>
    [Alias("HandBack")]
    Task HandBackAsync(int attempt, string silo);
}

/// <summary>Streamed output and progress on their way from an executing silo to the job.</summary>
/// <param name="Attempt">Attempt number; updates of an older attempt are dropped.</param>
/// <param name="Offset">Character offset of <paramref name="Text"/> in the attempt's streamed output.</param>
/// <param name="Text">New streamed text; empty when only progress changed.</param>
/// <param name="Progress">Progress as of this update; null when unchanged.</param>
/// <param name="Silo">Address of the silo doing the work.</param>
[GenerateSerializer, Immutable, Alias("poolai.ExecutionUpdate")]
public sealed record ExecutionUpdate(
    [property: Id(0)] int Attempt,
    [property: Id(1)] int Offset,
    [property: Id(2)] string Text,
    [property: Id(3)] JobProgress? Progress,
    [property: Id(4)] string? Silo = null);
