using Orleans.Placement;

namespace PoolAI.Jobs;

/// <summary>
/// Immovable for the activation rebalancer: the queue's dispatch loop runs outside requests and holds the jobs it is
/// starting in memory, so migrating the activation mid-dispatch would lose track of them until recovery. (Kept beside
/// <c>JobQueueGrain.cs</c> so that file's placement rules stay with the rebalancing ones.)
/// </summary>
[Immovable(ImmovableKind.Rebalancer)]
public sealed partial class JobQueueGrain;
