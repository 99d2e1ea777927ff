using Google.Protobuf;
using PoolAI.Jobs;
using PoolAI.Miners.Channel;
using PoolAI.Volumes;
using PoolAI.Volumes.Stores;

namespace PoolAI.Silo.Miners;

/// <summary>
/// An open miner's shard store as the pool reaches it over the miner channel: answers each <c>ShardRequest</c> from
/// the <see cref="ShardStore"/> on this machine's disk (the local silo's, <c>PoolAI:Volumes:Store:Directory</c> or
/// <c>$POOLAI_HOME/chunks</c>), never holding more than the storage the miner offers. A put that would pass the offer,
/// a bad argument or a disk that refuses is answered with status error and the reason. At most
/// <see cref="Concurrency"/> requests touch the disk at once; the rest wait their turn.
/// </summary>
/// <param name="store">The shard files.</param>
/// <param name="capacityBytes">Bytes of shards the miner offers, more than 0.</param>
public sealed class OpenMinerStorage(ShardStore store, long capacityBytes)
{
    /// <summary>Requests served at once.</summary>
    public const int Concurrency = 8;

    private readonly SemaphoreSlim _slots = new(Concurrency);
    private readonly Lock _reserving = new();
    private long _reserved;

    /// <summary>Bytes of shards offered.</summary>
    public long CapacityBytes => capacityBytes;

    /// <summary>The reply to <paramref name="request"/>, naming its id.</summary>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> fired (the connection ended) before the request was served.</exception>
    public async Task<ShardReply> AnswerAsync(ShardRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        await _slots.WaitAsync(cancellationToken);
        try
        {
            return await ServeAsync(request, cancellationToken);
        }
        catch (JobValidationException e)
        {
            return Error(request, e.Message);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return Error(request, $"the disk refused: {e.Message}");
        }
        finally
        {
            _slots.Release();
        }
    }

    /// <summary>A reply saying <paramref name="request"/> could not be done, and why.</summary>
    public static ShardReply Error(ShardRequest request, string detail) =>
        new() { RequestId = request.RequestId, Status = ShardStatus.Error, Detail = detail };

    private async Task<ShardReply> ServeAsync(ShardRequest request, CancellationToken cancellationToken)
    {
        var reply = new ShardReply { RequestId = request.RequestId, Status = ShardStatus.Ok };
        switch (request.Op)
        {
            case ShardOp.Put:
                return await PutAsync(request, reply, cancellationToken);
            case ShardOp.Get:
                return Read(reply, await store.GetAsync(request.Shard, request.Offset, request.Count, cancellationToken));
            case ShardOp.Audit:
                return Read(reply, await store.AuditAsync(request.Shard, request.Nonce.ToByteArray(), request.Offset, request.Count, cancellationToken));
            case ShardOp.DeleteShards:
                reply.Count = store.Delete(request.Shards);
                return reply;
            case ShardOp.DeleteWrite:
                if (!Guid.TryParseExact(request.Write, "N", out var write))
                    return Error(request, $"write: must be a write id of 32 hex digits; was '{request.Write}'");
                reply.Count = store.DeleteWrite(request.Volume, write);
                return reply;
            case ShardOp.ListWrites:
                reply.Writes.AddRange(store.ListWrites(request.Volume).Select(id => id.ToString("N")));
                return reply;
            case ShardOp.Usage:
                var usage = store.Usage();
                reply.Bytes = usage.Bytes;
                reply.Count = usage.Shards;
                reply.FreeBytes = Math.Max(0, Math.Min(usage.FreeBytes, capacityBytes - usage.Bytes));
                return reply;
            default:
                return Error(request, $"op: {request.Op} is not a shard operation this miner knows");
        }
    }

    private async Task<ShardReply> PutAsync(ShardRequest request, ShardReply reply, CancellationToken cancellationToken)
    {
        var length = request.Data.Length;
        lock (_reserving)
        {
            // A replaced shard counts twice here until it is written: near a full offer, that refuses a put that would fit.
            var held = store.Usage().Bytes + _reserved;
            if (held + length > capacityBytes)
                return Error(request, $"storage: this miner offers {capacityBytes} bytes and holds or is writing {held}; a shard of {length} bytes would pass the offer");
            _reserved += length;
        }

        try
        {
            var receipt = await store.PutAsync(request.Shard, request.Data.Memory, cancellationToken);
            reply.Bytes = receipt.Bytes;
            reply.Checksum = UnsafeByteOperations.UnsafeWrap(receipt.Checksum);
            return reply;
        }
        finally
        {
            lock (_reserving)
                _reserved -= length;
        }
    }

    private static ShardReply Read(ShardReply reply, ShardRead read)
    {
        reply.Status = read.Status switch
        {
            ShardReadStatus.Ok => ShardStatus.Ok,
            ShardReadStatus.Missing => ShardStatus.Missing,
            _ => ShardStatus.Corrupt,
        };
        if (read.Status == ShardReadStatus.Ok)
            reply.Data = UnsafeByteOperations.UnsafeWrap(read.Data);
        reply.Detail = read.Detail ?? string.Empty;
        return reply;
    }
}
