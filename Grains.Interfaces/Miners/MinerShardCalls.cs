namespace PoolAI.Miners;

/// <summary>A call on an open miner's shard store (<c>ShardOp</c> of <c>miner_channel.proto</c>).</summary>
[GenerateSerializer, Alias("poolai.MinerShardOp")]
public enum MinerShardOp
{
    /// <summary>Store <see cref="MinerShardRequest.Data"/> as <see cref="MinerShardRequest.Shard"/>.</summary>
    Put = 1,

    /// <summary>Bytes <c>[Offset, Offset + Count)</c> of a shard.</summary>
    Get = 2,

    /// <summary>SHA-256 of the nonce followed by bytes <c>[Offset, Offset + Count)</c> of a shard.</summary>
    Audit = 3,

    /// <summary>Delete <see cref="MinerShardRequest.Shards"/>.</summary>
    DeleteShards = 4,

    /// <summary>Delete every shard of one write of a volume.</summary>
    DeleteWrite = 5,

    /// <summary>The writes of a volume the store holds shards of.</summary>
    ListWrites = 6,

    /// <summary>Bytes and shards held, bytes still offered.</summary>
    Usage = 7,
}

/// <summary>One call on an open miner's shard store, as its proxy sends it through the gateway (a <c>ShardRequest</c> on the channel).</summary>
/// <param name="Id">Random id of the call, 32 hex digits: the miner's reply names it.</param>
/// <param name="Op">What is asked.</param>
/// <param name="Shard">Put, get, audit: the shard id (<c>VOLUME/WRITE/STRIPE.SHARD</c>).</param>
/// <param name="Data">Put: the shard's bytes, at most <see cref="Volumes.ShardIds.MaxShardBytes"/>; always encrypted by the pool.</param>
/// <param name="Offset">Get, audit: first byte wanted.</param>
/// <param name="Count">Get, audit: bytes wanted.</param>
/// <param name="Nonce">Audit: the challenge's nonce.</param>
/// <param name="Volume">Delete write, list writes: the volume.</param>
/// <param name="Write">Delete write: the write.</param>
/// <param name="Shards">Delete shards: the shard ids.</param>
[GenerateSerializer, Immutable, Alias("poolai.MinerShardRequest")]
public sealed record MinerShardRequest(
    [property: Id(0)] string Id,
    [property: Id(1)] MinerShardOp Op,
    [property: Id(2)] string Shard = "",
    [property: Id(3)] byte[]? Data = null,
    [property: Id(4)] long Offset = 0,
    [property: Id(5)] int Count = 0,
    [property: Id(6)] byte[]? Nonce = null,
    [property: Id(7)] string Volume = "",
    [property: Id(8)] Guid Write = default,
    [property: Id(9)] IReadOnlyList<string>? Shards = null);

/// <summary>How an open miner says a shard call went (<c>ShardStatus</c> of <c>miner_channel.proto</c>).</summary>
[GenerateSerializer, Alias("poolai.MinerShardStatus")]
public enum MinerShardStatus
{
    /// <summary>Done; the reply carries the result.</summary>
    Ok = 0,

    /// <summary>Get, audit: the miner does not hold the shard.</summary>
    Missing = 1,

    /// <summary>Get, audit: the stored file fails its checksum.</summary>
    Corrupt = 2,

    /// <summary>The call could not be done (a bad argument, a full disk, the storage offer exceeded); the detail says why.</summary>
    Error = 3,
}

/// <summary>
/// An open miner's answer to one <see cref="MinerShardRequest"/> (a <c>ShardReply</c> on the channel), as the gateway
/// forwards it to the miner's proxy. Nothing in it is trusted: the proxy checks it against the request it answers.
/// </summary>
/// <param name="Id">The id of the request it answers.</param>
/// <param name="Status">How the call went; a value outside the enum is refused.</param>
/// <param name="Data">Get: the bytes read (at most the count asked); audit: the 32-byte answer; empty otherwise.</param>
/// <param name="Checksum">Put: XxHash128 of the bytes stored, 16 bytes big-endian.</param>
/// <param name="Detail">Why, when not <see cref="MinerShardStatus.Ok"/>.</param>
/// <param name="Bytes">Put: bytes stored; usage: bytes of shards held.</param>
/// <param name="Count">Delete shards, delete write: shards deleted; usage: shards held.</param>
/// <param name="FreeBytes">Usage: bytes the miner still offers.</param>
/// <param name="Writes">List writes: write ids as the miner spelt them (32 hex digits).</param>
[GenerateSerializer, Immutable, Alias("poolai.MinerShardReply")]
public sealed record MinerShardReply(
    [property: Id(0)] string Id,
    [property: Id(1)] MinerShardStatus Status,
    [property: Id(2)] byte[] Data,
    [property: Id(3)] byte[] Checksum,
    [property: Id(4)] string Detail,
    [property: Id(5)] long Bytes,
    [property: Id(6)] long Count,
    [property: Id(7)] long FreeBytes,
    [property: Id(8)] IReadOnlyList<string> Writes);
