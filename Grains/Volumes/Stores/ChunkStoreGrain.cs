using Orleans.Concurrency;
using Orleans.Placement;

namespace PoolAI.Volumes.Stores;

/// <summary>
/// The chunk store of the trusted silo whose worker id is the key, activated on that silo
/// (<see cref="WorkerPinnedPlacementAttribute"/>): the <see cref="ShardStore"/> on its disk. Reentrant, and each shard's
/// disk work (hashing a MiB, writing, the fsync that blocks its thread) runs on the thread pool rather than on the
/// activation's one-at-a-time scheduler, so shards of many stripes move through one store at once; the store is
/// thread-safe.
/// </summary>
[WorkerPinnedPlacement]
[Immovable] // its shards are on this silo's disk
[Reentrant]
public sealed class ChunkStoreGrain(IServiceProvider services) : Grain, IChunkStoreGrain
{
    private ShardStore Store => (services.GetService(typeof(ShardStoreSet)) as ShardStoreSet)?.Find(this.GetPrimaryKeyString()) ?? throw new StoreUnavailableException(this.GetPrimaryKeyString());

    /// <inheritdoc />
    public Task<ShardReceipt> PutShardAsync(string shard, byte[] data)
    {
        var store = Store;
        return Task.Run(() => store.PutAsync(shard, data));
    }

    /// <inheritdoc />
    public Task<ShardRead> GetShardAsync(string shard, long offset, int count)
    {
        var store = Store;
        return Task.Run(() => store.GetAsync(shard, offset, count));
    }

    /// <inheritdoc />
    public Task<ShardRead> AuditShardAsync(string shard, byte[] nonce, long offset, int count)
    {
        var store = Store;
        return Task.Run(() => store.AuditAsync(shard, nonce, offset, count));
    }

    /// <inheritdoc />
    public Task<int> DeleteShardsAsync(IReadOnlyList<string> shards) => Task.FromResult(Store.Delete(shards));

    /// <inheritdoc />
    public Task<int> DeleteWriteAsync(string volume, Guid write) => Task.FromResult(Store.DeleteWrite(volume, write));

    /// <inheritdoc />
    public Task<IReadOnlyList<Guid>> ListWritesAsync(string volume) => Task.FromResult(Store.ListWrites(volume));

    /// <inheritdoc />
    public Task<ShardStoreUsage> GetUsageAsync() => Task.FromResult(Store.Usage());
}
