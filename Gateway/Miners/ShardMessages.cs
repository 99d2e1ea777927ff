using Google.Protobuf;
using PoolAI.Miners;
using PoolAI.Miners.Channel;

namespace PoolAI.Gateway.Miners;

/// <summary>
/// Shard calls between a miner's proxy and the channel: a <see cref="MinerShardRequest"/> becomes a
/// <c>ShardRequest</c> message, a <c>ShardReply</c> message a <see cref="MinerShardReply"/> for the proxy, field for
/// field. Nothing is checked here: the proxy checks each reply against the request it answers.
/// </summary>
internal static class ShardMessages
{
    /// <summary>The channel message of <paramref name="request"/> (its bytes are not copied).</summary>
    public static ShardRequest ToChannel(MinerShardRequest request)
    {
        var message = new ShardRequest
        {
            RequestId = request.Id,
            Op = (ShardOp)(int)request.Op,
            Shard = request.Shard,
            Data = request.Data is { Length: > 0 } data ? UnsafeByteOperations.UnsafeWrap(data) : ByteString.Empty,
            Offset = request.Offset,
            Count = request.Count,
            Nonce = request.Nonce is { Length: > 0 } nonce ? ByteString.CopyFrom(nonce) : ByteString.Empty,
            Volume = request.Volume,
            Write = request.Write == Guid.Empty ? string.Empty : request.Write.ToString("N"),
        };
        if (request.Shards is { } shards)
            message.Shards.AddRange(shards);
        return message;
    }

    /// <summary>The proxy's record of <paramref name="reply"/>; a status this gateway does not know is passed on as its number, for the proxy to refuse.</summary>
    public static MinerShardReply FromChannel(ShardReply reply) => new(
        reply.RequestId,
        (MinerShardStatus)(int)reply.Status,
        reply.Data.ToByteArray(),
        reply.Checksum.ToByteArray(),
        reply.Detail,
        reply.Bytes,
        reply.Count,
        reply.FreeBytes,
        [.. reply.Writes]);
}
