using PoolAI.Jobs;

namespace PoolAI.Workers;

/// <summary>
/// The job attempts running now on one worker's silo (key: the worker id), answered on that silo: what a drain waits
/// for before the silo goes down for maintenance. Only trusted silos have one; an open miner's attempts run on its own
/// machine.
/// </summary>
[Alias("poolai.IWorkerJobsGrain")]
public interface IWorkerJobsGrain : IGrainWithStringKey
{
    /// <summary>The attempts running on the silo now, oldest first.</summary>
    [Alias("GetRunning")]
    Task<IReadOnlyList<RunningAttempt>> GetRunningAsync();
}

/// <summary>A job attempt running on a silo.</summary>
/// <param name="JobId">The job.</param>
/// <param name="Attempt">The attempt number (1 for the first).</param>
/// <param name="Kind">The job's kind.</param>
/// <param name="Target">Its model, or its task's name.</param>
/// <param name="Started">When the silo took it (the silo's clock).</param>
[GenerateSerializer, Immutable, Alias("poolai.RunningAttempt")]
public sealed record RunningAttempt(
    [property: Id(0)] Guid JobId,
    [property: Id(1)] int Attempt,
    [property: Id(2)] JobKind Kind,
    [property: Id(3)] string Target,
    [property: Id(4)] DateTimeOffset Started);
