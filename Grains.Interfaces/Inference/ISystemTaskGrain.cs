using PoolAI.Jobs;

namespace PoolAI.Inference;

/// <summary>
/// Runs built-in system tasks (<see cref="SystemTasks"/>) on a miner. A stateless worker keyed like
/// <see cref="IInferenceGrain"/> (<see cref="InferenceKeys.Pinned"/>: <c>TASK@SILO</c>), so a job runs on the silo whose
/// slot its queue reserved.
/// </summary>
[Alias("poolai.ISystemTaskGrain")]
public interface ISystemTaskGrain : IGrainWithStringKey
{
    /// <summary>Runs <paramref name="spec"/>'s task; the result's <see cref="JobResult.Silo"/> names this silo.</summary>
    /// <exception cref="JobValidationException">Field <c>model</c>: not a system task.</exception>
    [Alias("Run")]
    Task<JobResult> RunAsync(JobSpec spec, CancellationToken cancellationToken = default);
}
