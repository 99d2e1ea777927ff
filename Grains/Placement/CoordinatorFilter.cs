using Orleans.Placement;
using Orleans.Runtime.Placement;

namespace PoolAI.Placement;

/// <summary>Placement filter: the grain may only activate on coordinator silos (role <c>coordinator</c> or <c>all-in-one</c>).</summary>
public sealed class CoordinatorFilterStrategy() : PlacementFilterStrategy(order: 0);

/// <summary>
/// Pins a grain to coordinator silos. Jobs, queues, workers and ledgers hold the pool's state and must not live on
/// miners, which come and go (and may be killed at any moment); a miner's silo serves models only.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
public sealed class CoordinatorFilterAttribute() : PlacementFilterAttribute(new CoordinatorFilterStrategy());

/// <summary>Keeps the silos whose <see cref="PoolKeys.RoleMetadata"/> is <c>coordinator</c> or <c>all-in-one</c>.</summary>
public sealed class CoordinatorFilterDirector(SiloMetadataLookup metadata) : IPlacementFilterDirector
{
    /// <summary>Roles that host the pool's stateful grains.</summary>
    public static readonly IReadOnlySet<string> CoordinatorRoles = new HashSet<string>(StringComparer.Ordinal) { "coordinator", "all-in-one" };

    /// <inheritdoc />
    public IEnumerable<SiloAddress> Filter(PlacementFilterStrategy filterStrategy, PlacementTarget target, IEnumerable<SiloAddress> silos) =>
        silos.Where(silo => IsCoordinator(metadata.Of(silo)));

    /// <summary>True when the silo metadata names a coordinator role.</summary>
    public static bool IsCoordinator(IReadOnlyDictionary<string, string> silo) =>
        silo.TryGetValue(PoolKeys.RoleMetadata, out var role) && CoordinatorRoles.Contains(role);
}
