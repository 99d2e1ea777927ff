using System.Diagnostics;
using System.IO.Hashing;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using PoolAI.Jobs;
using PoolAI.Rewards;
using PoolAI.Volumes;
using PoolAI.Volumes.Stores;

namespace PoolAI.Miners;

// The open miner as a shard store (IShardStoreGrain): each store call becomes a
// MinerShardRequest with a random id, sent over the miner's link, and waits for the reply naming it on the
// same connection. A reply is checked against its request (MinerShardReplies) before the caller sees
// it; one that fails is refused, counted, and fails the call; a put acknowledged with another checksum than that of the
// bytes sent is also a suspicion on the miner's ledger. While the miner is connected and offers storage, its store is
// in the IStoreDirectoryGrain (kind StoreKind.Open), refreshed every
// StoreDirectory.RefreshInterval; it leaves it when the miner signs off or its connection ends.
public sealed partial class OpenMinerGrain
{
    /// <summary>
    /// How long the proxy waits for the miner's reply to a shard request before the call fails with a
    /// <see cref="TimeoutException"/> (under Orleans' default 30 s response timeout, so the caller hears why).
    /// </summary>
    public static readonly TimeSpan ShardRequestTimeout = TimeSpan.FromSeconds(25);

    /// <summary>Most shard ids one delete request names; longer lists go in several requests.</summary>
    public const int MaxShardsPerDelete = 1000;

    private const int RememberedEndedShardCalls = 1024;
    private const int MaxDetailChars = 500;

    private readonly Dictionary<string, ShardCall> _shardCalls = new(StringComparer.Ordinal);
    private readonly HashSet<string> _endedShardCalls = new(StringComparer.Ordinal);
    private readonly Queue<string> _endedShardOrder = new();
    private long _storageBytes;
    private long _lastStoreWrite;

    /// <inheritdoc />
    public async Task<ShardReceipt> PutShardAsync(string shard, byte[] data)
    {
        ArgumentNullException.ThrowIfNull(data);
        ShardIds.Parse(shard);
        if (data.Length > ShardIds.MaxShardBytes)
            throw new JobValidationException("data", $"a shard holds at most {ShardIds.MaxShardBytes} bytes (got {data.Length})");
        if (_link is not null && _storageBytes <= 0)
            throw new StoreUnavailableException(Worker, "offers no storage (the open miner registered storage_bytes 0)");
        if (_signedOff)
            throw new StoreUnavailableException(Worker, "is signing off: the open miner takes no new shard");
        var checksum = XxHash128.Hash(data);
        var reply = await CallAsync(new MinerShardRequest(NewRequestId(), MinerShardOp.Put, shard, data), checksum);
        return reply.Status == MinerShardStatus.Ok ? new ShardReceipt(reply.Bytes, reply.Checksum) : throw Failed(reply, $"did not store shard {shard}");
    }

    /// <inheritdoc />
    public async Task<ShardRead> GetShardAsync(string shard, long offset, int count)
    {
        ShardIds.Parse(shard);
        if (offset < 0)
            throw new JobValidationException("offset", $"must be ≥ 0 (got {offset})");
        if (count < 0)
            throw new JobValidationException("count", $"must be ≥ 0 (got {count})");
        return Read(await CallAsync(new MinerShardRequest(NewRequestId(), MinerShardOp.Get, shard, Offset: offset, Count: count)), $"could not read shard {shard}");
    }

    /// <inheritdoc />
    public async Task<ShardRead> AuditShardAsync(string shard, byte[] nonce, long offset, int count)
    {
        ArgumentNullException.ThrowIfNull(nonce);
        ShardIds.Parse(shard);
        if (nonce.Length is < 8 or > 64)
            throw new JobValidationException("nonce", $"must be 8 to 64 bytes (got {nonce.Length})");
        if (offset < 0)
            throw new JobValidationException("offset", $"must be ≥ 0 (got {offset})");
        if (count is < 1 or > ShardAudits.MaxRange)
            throw new JobValidationException("count", $"must be 1 to {ShardAudits.MaxRange} bytes (got {count})");
        return Read(await CallAsync(new MinerShardRequest(NewRequestId(), MinerShardOp.Audit, shard, Offset: offset, Count: count, Nonce: nonce)), $"could not answer the audit of shard {shard}");
    }

    /// <inheritdoc />
    public async Task<int> DeleteShardsAsync(IReadOnlyList<string> shards)
    {
        ArgumentNullException.ThrowIfNull(shards);
        foreach (var shard in shards)
            ShardIds.Parse(shard);
        var deleted = 0;
        foreach (var batch in shards.Chunk(MaxShardsPerDelete))
        {
            var reply = await CallAsync(new MinerShardRequest(NewRequestId(), MinerShardOp.DeleteShards, Shards: batch));
            deleted += reply.Status == MinerShardStatus.Ok ? (int)reply.Count : throw Failed(reply, $"did not delete {batch.Length} shards");
        }

        return deleted;
    }

    /// <inheritdoc />
    public async Task<int> DeleteWriteAsync(string volume, Guid write)
    {
        VolumeNames.CheckName(volume);
        var reply = await CallAsync(new MinerShardRequest(NewRequestId(), MinerShardOp.DeleteWrite, Volume: volume, Write: write));
        return reply.Status == MinerShardStatus.Ok ? (int)Math.Min(reply.Count, int.MaxValue) : throw Failed(reply, $"did not delete write {write:N} of volume {volume}");
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<Guid>> ListWritesAsync(string volume)
    {
        VolumeNames.CheckName(volume);
        var reply = await CallAsync(new MinerShardRequest(NewRequestId(), MinerShardOp.ListWrites, Volume: volume));
        return reply.Status == MinerShardStatus.Ok ? [.. reply.Writes.Select(w => Guid.ParseExact(w, "N"))] : throw Failed(reply, $"did not list the writes of volume {volume}");
    }

    /// <inheritdoc />
    public async Task<ShardStoreUsage> GetUsageAsync()
    {
        var offered = _storageBytes;
        var reply = await CallAsync(new MinerShardRequest(NewRequestId(), MinerShardOp.Usage));
        // Free space is what the miner offers, whatever its disk claims.
        return reply.Status == MinerShardStatus.Ok
            ? new ShardStoreUsage(reply.Bytes, reply.Count, Math.Min(reply.FreeBytes, Math.Max(0, offered - reply.Bytes)))
            : throw Failed(reply, "did not report its usage");
    }

    /// <inheritdoc />
    public async Task<MinerAnswer> ShardReplyAsync(Guid session, MinerShardReply reply)
    {
        ArgumentNullException.ThrowIfNull(reply);
        var id = reply.Id ?? string.Empty;
        if (session != _session || _link is null)
        {
            Remember($"a shard reply for request '{Short(id)}' from a connection that was replaced or ended");
            return MinerAnswer.Refused("this connection was replaced or ended", close: true);
        }

        if (!_shardCalls.TryGetValue(id, out var call) || call.Session != session)
        {
            if (_endedShardCalls.Contains(id))
                return MinerAnswer.Refused($"shard request {id} has ended (answered, refused or timed out); this reply changes nothing");
            var unknown = $"a shard reply for request '{Short(id)}', which was never sent to this miner";
            Count(unknown);
            LogRefused(Worker, unknown);
            return Answer(unknown);
        }

        EndShardCall(id);
        if (MinerShardReplies.Check(call.Request, reply, call.Checksum) is not { } fault)
        {
            call.Reply.TrySetResult(reply);
            return MinerAnswer.Taken;
        }

        var reason = $"shard reply to {MinerShardReplies.Name(call.Request.Op)} request {id} refused: {fault.Rule}";
        Count(reason);
        LogRefused(Worker, reason);
        if (fault.Suspicious)
            await GrainFactory.GetGrain<IRewardLedgerGrain>(Worker).RecordSuspicionAsync(Guid.Empty, $"open miner's {reason}");
        call.Reply.TrySetException(new InvalidDataException($"open miner {Worker}: {reason}"));
        return Answer(reason);
    }

    /// <summary>Sends <paramref name="request"/> to the miner and waits for its checked reply.</summary>
    /// <exception cref="StoreUnavailableException">The miner is not connected, or its connection was lost before the reply.</exception>
    /// <exception cref="TimeoutException">No reply within <see cref="ShardRequestTimeout"/>.</exception>
    /// <exception cref="InvalidDataException">The reply broke a rule of <see cref="MinerShardReplies"/>.</exception>
    private async Task<MinerShardReply> CallAsync(MinerShardRequest request, byte[]? checksum = null)
    {
        if (_link is not { } link)
            throw new StoreUnavailableException(Worker, "is not connected: an open miner's store is reachable only while its channel is up");
        var call = new ShardCall(request, _session, checksum ?? []);
        _shardCalls[request.Id] = call;
        try
        {
            try
            {
                await link.ShardRequestAsync(request).WaitAsync(ShardRequestTimeout);
            }
            catch (Exception ex)
            {
                if (call.Session == _session && _link is not null)
                    await EndConnectionAsync($"a shard request could not be sent ({ex.GetType().Name})");
                throw new StoreUnavailableException(Worker, "lost its connection: the shard request could not be sent");
            }

            try
            {
                return await call.Reply.Task.WaitAsync(ShardRequestTimeout);
            }
            catch (TimeoutException)
            {
                LogShardTimeout(Worker, MinerShardReplies.Name(request.Op), request.Id);
                throw new TimeoutException($"open miner {Worker} did not answer its {MinerShardReplies.Name(request.Op)} request within {ShardRequestTimeout.TotalSeconds:0} s");
            }
        }
        finally
        {
            EndShardCall(request.Id);
        }
    }

    /// <summary>A get's or audit's outcome: the bytes, or why there are none; an error is thrown.</summary>
    private ShardRead Read(MinerShardReply reply, string what) => reply.Status switch
    {
        MinerShardStatus.Ok => new ShardRead(ShardReadStatus.Ok, reply.Data),
        MinerShardStatus.Missing => new ShardRead(ShardReadStatus.Missing, [], Detail(reply)),
        MinerShardStatus.Corrupt => new ShardRead(ShardReadStatus.Corrupt, [], Detail(reply) ?? "the open miner says its copy fails its checksum"),
        _ => throw Failed(reply, what),
    };

    /// <summary>The error a miner's not-ok reply becomes.</summary>
    private IOException Failed(MinerShardReply reply, string what) => new($"open miner {Worker} {what}: {Detail(reply) ?? "no reason given"}");

    private static string? Detail(MinerShardReply reply) =>
        string.IsNullOrWhiteSpace(reply.Detail) ? null : reply.Detail.Length > MaxDetailChars ? reply.Detail[..MaxDetailChars] + "…" : reply.Detail;

    private static string NewRequestId() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));

    /// <summary>Forgets a call (answered, refused, timed out or lost); a late reply naming it is refused quietly.</summary>
    private void EndShardCall(string id)
    {
        if (_shardCalls.Remove(id) && _endedShardCalls.Add(id))
        {
            _endedShardOrder.Enqueue(id);
            if (_endedShardOrder.Count > RememberedEndedShardCalls)
                _endedShardCalls.Remove(_endedShardOrder.Dequeue());
        }
    }

    /// <summary>Fails the shard calls of <paramref name="session"/>: its connection ended.</summary>
    private void FailShardCalls(Guid session, string reason)
    {
        foreach (var call in _shardCalls.Values.Where(c => c.Session == session).ToList())
        {
            EndShardCall(call.Request.Id);
            call.Reply.TrySetException(new StoreUnavailableException(Worker, $"lost its connection: {reason}"));
        }
    }

    /// <summary>Adds or refreshes the miner's store in the store directory (when it offers storage); a failure is retried at the next heartbeat.</summary>
    private async Task WriteStoreAsync()
    {
        if (_storageBytes <= 0)
            return;
        try
        {
            await GrainFactory.GetGrain<IStoreDirectoryGrain>(IStoreDirectoryGrain.Default)
                .RegisterAsync(new StoreRegistration(Worker, OpenMiners.SiloOf(Worker), StoreKind.Open, null, _storageBytes));
            _lastStoreWrite = Stopwatch.GetTimestamp();
        }
        catch (Exception ex)
        {
            LogStoreDirectoryFailed(Worker, ex);
        }
    }

    /// <summary>Marks the miner's store dead in the store directory, when it had one.</summary>
    private async Task RemoveStoreAsync(string reason)
    {
        if (_storageBytes <= 0)
            return;
        try
        {
            await GrainFactory.GetGrain<IStoreDirectoryGrain>(IStoreDirectoryGrain.Default).UnregisterAsync(Worker, reason);
        }
        catch (Exception ex)
        {
            LogStoreDirectoryFailed(Worker, ex);
        }
    }

    /// <summary>Whether the store's directory entry is due for a refresh.</summary>
    private bool StoreRefreshDue => _storageBytes > 0 && !_signedOff && Stopwatch.GetElapsedTime(_lastStoreWrite) >= StoreDirectory.RefreshInterval;

    /// <summary>One shard request waiting for the miner's reply.</summary>
    private sealed class ShardCall(MinerShardRequest request, Guid session, byte[] checksum)
    {
        public MinerShardRequest Request { get; } = request;

        public Guid Session { get; } = session;

        /// <summary>Put: XxHash128 of the bytes sent.</summary>
        public byte[] Checksum { get; } = checksum;

        public TaskCompletionSource<MinerShardReply> Reply { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Open miner {Worker} did not answer its {Op} request {Request} in time")]
    private partial void LogShardTimeout(string worker, string op, string request);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not update the store directory for open miner {Worker}; the next heartbeat retries")]
    private partial void LogStoreDirectoryFailed(string worker, Exception exception);
}
