using System.Globalization;
using PoolAI.Volumes;

namespace PoolAI.Miners;

/// <summary>A rule an open miner's shard reply broke.</summary>
/// <param name="Rule">The field and the rule, as the refusal says it (<c>checksum: is not …</c>).</param>
/// <param name="Suspicious">True when the reply is a lie about the pool's data (a put acknowledged with another checksum), not only a malformed answer: a suspicion on the miner's ledger.</param>
public sealed record MinerShardReplyFault(string Rule, bool Suspicious = false);

/// <summary>
/// The rules an open miner's reply must keep to answer a shard request (<c>ShardReply</c> of <c>miner_channel.proto</c>),
/// checked by its proxy before any caller sees the reply. They bound what the miner can make a caller hold (no more
/// bytes than asked, a 32-byte audit answer, counts that fit the request) and hold a put's acknowledgement to the
/// checksum the proxy computed of the bytes it sent. The content of a get or an audit is not theirs to judge: readers
/// check it against the checksum the writer recorded, audits against tickets the miner never saw.
/// </summary>
public static class MinerShardReplies
{
    /// <summary>Bytes of an audit answer (SHA-256, see <see cref="ShardAudits.Answer"/>).</summary>
    public const int AuditAnswerBytes = 32;

    /// <summary>Bytes of a put's checksum (XxHash128).</summary>
    public const int ChecksumBytes = 16;

    /// <summary>Most write ids one list-writes reply may hold.</summary>
    public const int MaxListedWrites = 100_000;

    /// <summary>The first rule <paramref name="reply"/> breaks as an answer to <paramref name="request"/>, or null when it keeps them all.</summary>
    /// <param name="request">The request it answers.</param>
    /// <param name="reply">The miner's reply.</param>
    /// <param name="sent">Put: XxHash128 of the bytes the proxy sent (16 bytes); ignored otherwise.</param>
    public static MinerShardReplyFault? Check(MinerShardRequest request, MinerShardReply reply, ReadOnlySpan<byte> sent)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(reply);
        var op = Name(request.Op);
        var data = reply.Data ?? [];
        if (!Enum.IsDefined(reply.Status))
            return new($"status: must be ok, missing, corrupt or error; was {(int)reply.Status}");
        var reads = request.Op is MinerShardOp.Get or MinerShardOp.Audit;
        if (!reads && reply.Status is MinerShardStatus.Missing or MinerShardStatus.Corrupt)
            return new($"status: a reply to {op} must be ok or error; was {reply.Status.ToString().ToLowerInvariant()}");
        if ((!reads || reply.Status != MinerShardStatus.Ok) && data.Length > 0)
            return new($"data: must be empty in a reply to {op} with status {reply.Status.ToString().ToLowerInvariant()}; it had {data.Length} bytes");
        if (reply.Status != MinerShardStatus.Ok)
            return null;
        return request.Op switch
        {
            MinerShardOp.Put => CheckPut(request, reply, sent),
            MinerShardOp.Get when data.Length > Math.Min(Math.Max(request.Count, 0), ShardIds.MaxShardBytes) =>
                new($"data: {data.Length} bytes where at most {Math.Max(request.Count, 0)} were asked for"),
            MinerShardOp.Audit when data.Length != AuditAnswerBytes =>
                new($"data: an audit answer is {AuditAnswerBytes} bytes (SHA-256); it had {data.Length}"),
            MinerShardOp.DeleteShards when reply.Count < 0 || reply.Count > (request.Shards?.Count ?? 0) =>
                new($"count: must be between 0 and the {request.Shards?.Count ?? 0} shards named; was {reply.Count}"),
            MinerShardOp.DeleteWrite when reply.Count < 0 =>
                new($"count: must be at least 0; was {reply.Count}"),
            MinerShardOp.ListWrites => CheckWrites(reply.Writes ?? []),
            MinerShardOp.Usage when reply.Bytes < 0 || reply.Count < 0 || reply.FreeBytes < 0 =>
                new($"bytes, count and free_bytes: must be at least 0; were {reply.Bytes}, {reply.Count} and {reply.FreeBytes}"),
            _ => null,
        };
    }

    /// <summary>The op as the channel spells it (<c>delete_shards</c>).</summary>
    public static string Name(MinerShardOp op) => op switch
    {
        MinerShardOp.DeleteShards => "delete_shards",
        MinerShardOp.DeleteWrite => "delete_write",
        MinerShardOp.ListWrites => "list_writes",
        _ => op.ToString().ToLowerInvariant(),
    };

    private static MinerShardReplyFault? CheckPut(MinerShardRequest request, MinerShardReply reply, ReadOnlySpan<byte> sent)
    {
        var length = request.Data?.Length ?? 0;
        if (reply.Bytes != length)
            return new($"bytes: says {reply.Bytes} bytes of shard {request.Shard} were stored where {length} were sent", Suspicious: true);
        var checksum = reply.Checksum ?? [];
        if (checksum.Length != ChecksumBytes || !checksum.AsSpan().SequenceEqual(sent))
            return new($"checksum: is not the XxHash128 of the {length} bytes sent as shard {request.Shard}", Suspicious: true);
        return null;
    }

    private static MinerShardReplyFault? CheckWrites(IReadOnlyList<string> writes)
    {
        if (writes.Count > MaxListedWrites)
            return new($"writes: must list at most {MaxListedWrites.ToString(CultureInfo.InvariantCulture)} write ids; listed {writes.Count}");
        var seen = new HashSet<Guid>();
        foreach (var write in writes)
        {
            if (write is not { Length: 32 } || !Guid.TryParseExact(write, "N", out var id))
                return new($"writes: '{Short(write ?? string.Empty)}' is not a write id (32 hex digits)");
            if (!seen.Add(id))
                return new($"writes: write {write} is listed twice");
        }

        return null;
    }

    private static string Short(string text) => text.Length > 64 ? text[..64] + "…" : text;
}
