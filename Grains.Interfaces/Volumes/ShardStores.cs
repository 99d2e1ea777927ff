using PoolAI.Miners;

namespace PoolAI.Volumes;

/// <summary>Finds a store by id.</summary>
public static class ShardStores
{
    /// <summary>
    /// The store with id <paramref name="storeId"/>: an open miner's proxy (<see cref="IOpenMinerGrain"/>) for an open
    /// miner's worker id (<c>miner-</c> and 12 characters, see <see cref="OpenMiners.KeyOf"/>), else the trusted silo's
    /// chunk store.
    /// </summary>
    public static IShardStoreGrain Of(IGrainFactory grains, string storeId) =>
        OpenMiners.KeyOf(storeId) is not null ? grains.GetGrain<IOpenMinerGrain>(storeId) : grains.GetGrain<IChunkStoreGrain>(storeId);
}
