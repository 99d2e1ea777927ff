using Orleans.Placement;
using PoolAI.Execution;
using PoolAI.Volumes.Stores;

namespace PoolAI.Workers;

/// <summary>
/// The attempts running on the silo whose worker id is the key (see <see cref="IWorkerJobsGrain"/>), activated on that
/// silo (<see cref="WorkerPinnedPlacementAttribute"/>, as its chunk store) and read from its <see cref="WorkDrain"/>.
/// </summary>
[WorkerPinnedPlacement]
[Immovable] // it answers for the silo it lives on
public sealed class WorkerJobsGrain(WorkDrain drain) : Grain, IWorkerJobsGrain
{
    /// <inheritdoc />
    public Task<IReadOnlyList<RunningAttempt>> GetRunningAsync() => Task.FromResult(drain.Attempts);
}
