using Orleans.Placement;
using Orleans.Runtime.Placement;
using PoolAI.Placement;

namespace PoolAI.Execution;

/// <summary>Placement filter: an executor grain keyed <c>KIND/TARGET[@SILO]</c> may only activate on silos that run that kind on that target.</summary>
public sealed class RunsKindFilterStrategy() : PlacementFilterStrategy(order: 0);

/// <summary>Confines a grain keyed by <see cref="ExecutorKeys"/> to silos that run the key's kind on its target.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
public sealed class RunsKindFilterAttribute() : PlacementFilterAttribute(new RunsKindFilterStrategy());

/// <summary>
/// Keeps the silos that advertise the key's kind and serve its target (<see cref="JobKindRegistry.Runs"/>) and that may
/// get new work (<see cref="WorkerAvailability"/>: not paused, in maintenance, banned, offline or suspected); for a key
/// pinned to a silo (<see cref="ExecutorKeys.Pinned"/>), only that silo, whose slot the queue has already checked.
/// </summary>
public sealed class RunsKindFilterDirector(SiloMetadataLookup metadata, WorkerAvailability availability, JobKindRegistry kinds) : IPlacementFilterDirector
{
    /// <inheritdoc />
    public IEnumerable<SiloAddress> Filter(PlacementFilterStrategy filterStrategy, PlacementTarget target, IEnumerable<SiloAddress> silos)
    {
        var (kind, work, pinned) = ExecutorKeys.Parse(target.GrainIdentity.Key.ToString()!);
        return silos.Where(silo =>
        {
            var siloMetadata = metadata.Of(silo);
            if (pinned is not null)
                return string.Equals(silo.ToString(), pinned, StringComparison.Ordinal) && kinds.Runs(siloMetadata, kind, work);
            return kinds.Runs(siloMetadata, kind, work) && availability.IsAvailable(silo, siloMetadata);
        });
    }
}
