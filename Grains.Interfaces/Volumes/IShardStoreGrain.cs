namespace PoolAI.Volumes;

/// <summary>
/// Where a volume's shards live: one store per miner, keeping each shard as a file on that miner's disk with a
/// checksum of the stored bytes checked on every read. On a trusted silo the store is a <see cref="IChunkStoreGrain"/>
/// pinned to that silo; on an open miner it is the miner's proxy (<see cref="Miners.IOpenMinerGrain"/>), which
/// forwards each call over the miner channel. Callers reach either through <see cref="ShardStores.Of"/>.
/// A shard id is <c>VOLUME/WRITE/STRIPE.SHARD</c> (see <see cref="ShardIds"/>).
/// </summary>
[Alias("poolai.IShardStoreGrain")]
public interface IShardStoreGrain : IGrainWithStringKey
{
    /// <summary>Stores <paramref name="data"/> as shard <paramref name="shard"/>, replacing any earlier copy atomically (written beside, then renamed). Returns the XxHash128 of the stored bytes.</summary>
    /// <exception cref="Jobs.JobValidationException">Field <c>shard</c>: not a shard id; or <c>data</c>: over <see cref="ShardIds.MaxShardBytes"/>.</exception>
    /// <exception cref="IOException">The store's disk refused the write (full, read-only).</exception>
    [Alias("PutShard")]
    Task<ShardReceipt> PutShardAsync(string shard, byte[] data);

    /// <summary>Bytes <c>[offset, offset + count)</c> of shard <paramref name="shard"/> (fewer at its end), after checking the whole stored file against its checksum.</summary>
    [Alias("GetShard")]
    Task<ShardRead> GetShardAsync(string shard, long offset, int count);

    /// <summary>
    /// A storage audit: SHA-256 of <paramref name="nonce"/> followed by bytes <c>[offset, offset + count)</c> of the
    /// stored shard (as in <see cref="ShardAudits.Answer"/>). The nonce is fresh for each challenge, so only a store
    /// that still holds the bytes can answer.
    /// </summary>
    [Alias("AuditShard")]
    Task<ShardRead> AuditShardAsync(string shard, byte[] nonce, long offset, int count);

    /// <summary>Deletes the shards named (missing ones are skipped); returns how many were deleted.</summary>
    [Alias("DeleteShards")]
    Task<int> DeleteShardsAsync(IReadOnlyList<string> shards);

    /// <summary>Deletes every shard of write <paramref name="write"/> of volume <paramref name="volume"/> (an abandoned or replaced file version); returns how many.</summary>
    [Alias("DeleteWrite")]
    Task<int> DeleteWriteAsync(string volume, Guid write);

    /// <summary>Ids of the writes of <paramref name="volume"/> this store holds shards of, for garbage collection.</summary>
    [Alias("ListWrites")]
    Task<IReadOnlyList<Guid>> ListWritesAsync(string volume);

    /// <summary>Bytes and shards held, and the disk's free space.</summary>
    [Alias("GetUsage")]
    Task<ShardStoreUsage> GetUsageAsync();
}

/// <summary>The chunk store of one trusted silo: shards under <c>$POOLAI_HOME/chunks</c>, the grain pinned to that silo by placement and keyed by its worker id.</summary>
[Alias("poolai.IChunkStoreGrain")]
public interface IChunkStoreGrain : IShardStoreGrain;

/// <summary>What a store says it stored.</summary>
/// <param name="Bytes">Length of the stored shard, bytes.</param>
/// <param name="Checksum">XxHash128 of the stored bytes, 16 bytes big-endian (System.IO.Hashing.XxHash128).</param>
[GenerateSerializer, Immutable, Alias("poolai.ShardReceipt")]
public sealed record ShardReceipt([property: Id(0)] long Bytes, [property: Id(1)] byte[] Checksum);

/// <summary>Outcome of reading or auditing a shard.</summary>
[GenerateSerializer, Alias("poolai.ShardReadStatus")]
public enum ShardReadStatus
{
    /// <summary>The bytes (or the audit answer) are in <see cref="ShardRead.Data"/>.</summary>
    Ok,

    /// <summary>The store does not hold the shard.</summary>
    Missing,

    /// <summary>The stored file no longer matches its checksum (a flipped bit, a torn file); the store does not return its bytes.</summary>
    Corrupt,
}

/// <summary>A shard's bytes, or why there are none.</summary>
[GenerateSerializer, Immutable, Alias("poolai.ShardRead")]
public sealed record ShardRead([property: Id(0)] ShardReadStatus Status, [property: Id(1)] byte[] Data, [property: Id(2)] string? Detail = null)
{
    /// <summary>The store does not hold the shard.</summary>
    public static readonly ShardRead Missing = new(ShardReadStatus.Missing, []);
}

/// <summary>What one store holds.</summary>
/// <param name="Bytes">Bytes of shards held.</param>
/// <param name="Shards">Shards held.</param>
/// <param name="FreeBytes">Free space on the store's disk, bytes.</param>
[GenerateSerializer, Immutable, Alias("poolai.ShardStoreUsage")]
public sealed record ShardStoreUsage([property: Id(0)] long Bytes, [property: Id(1)] long Shards, [property: Id(2)] long FreeBytes);
