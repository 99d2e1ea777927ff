using Orleans.Placement;
using Orleans.Runtime.Placement;
using PoolAI.Placement;

namespace PoolAI.Volumes.Stores;

/// <summary>Places a grain on the silo whose worker id (<see cref="PoolKeys.WorkerMetadata"/>) is the grain's key (up to a drive suffix, see <see cref="ShardStoreSet.WorkerOf"/>).</summary>
[GenerateSerializer, Immutable]
public sealed class WorkerPinnedPlacement : PlacementStrategy;

/// <summary>Marks a grain class for <see cref="WorkerPinnedPlacement"/>.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
public sealed class WorkerPinnedPlacementAttribute() : PlacementAttribute(new WorkerPinnedPlacement());

/// <summary>Chooses the silo advertising the grain's key as its worker id; none is an error naming the worker (the store is down).</summary>
public sealed class WorkerPinnedPlacementDirector(SiloMetadataLookup metadata) : IPlacementDirector
{
    /// <inheritdoc />
    public Task<SiloAddress> OnAddActivation(PlacementStrategy strategy, PlacementTarget target, IPlacementContext context)
    {
        var worker = ShardStoreSet.WorkerOf(target.GrainIdentity.Key.ToString()!);
        var silo = context.GetCompatibleSilos(target).FirstOrDefault(s => metadata.Of(s).TryGetValue(PoolKeys.WorkerMetadata, out var w) && w == worker);
        return silo is not null
            ? Task.FromResult(silo)
            : Task.FromException<SiloAddress>(new StoreUnavailableException(worker));
    }
}

/// <summary>No live silo holds the store, or (<paramref name="reason"/>) the open miner that holds it cannot be reached.</summary>
/// <param name="store">The store's id.</param>
/// <param name="reason">What the message says of the store; default "is not in the cluster".</param>
[GenerateSerializer, Alias("poolai.StoreUnavailableException")]
public sealed class StoreUnavailableException(string store, string? reason = null) : Exception($"store '{store}' {reason ?? "is not in the cluster"}")
{
    /// <summary>The store.</summary>
    [Id(0)]
    public string Store { get; } = store;
}
