using PoolAI.Jobs;

namespace PoolAI.Inference;

/// <summary>Runs built-in system tasks on the miner silo its key pins it to (placement filter <see cref="ServesModelFilterAttribute"/>).</summary>
[StatelessWorker(InferenceGrain.MaxLocalWorkers)]
[ServesModelFilter]
public sealed class SystemTaskGrain(ILocalSiloDetails silo) : Grain, ISystemTaskGrain
{
    /// <inheritdoc />
    public Task<JobResult> RunAsync(JobSpec spec, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return spec.Model switch
        {
            SystemTasks.Noop => Task.FromResult(new JobResult(string.Empty, 0, "done", TimeSpan.Zero, silo.SiloAddress.ToString())),
            _ => throw new JobValidationException("model", $"'{spec.Model}' is not a system task; known: {string.Join(", ", SystemTasks.All)}"),
        };
    }
}
