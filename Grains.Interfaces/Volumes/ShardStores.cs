namespace PoolAI.Volumes;

/// <summary>Finds a store by id.</summary>
public static class ShardStores
{
    /// <summary>The store with id <paramref name="storeId"/>.</summary>
    public static IShardStoreGrain Of(IGrainFactory grains, string storeId) => grains.GetGrain<IChunkStoreGrain>(storeId);
}
