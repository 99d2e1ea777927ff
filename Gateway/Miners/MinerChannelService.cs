using System.Security.Claims;
using System.Threading.Channels;
using System.Threading.RateLimiting;
using Grpc.Core;
using PoolAI.Auth;
using PoolAI.Jobs;
using PoolAI.Miners;
using PoolAI.Miners.Channel;
using PoolAI.Workers;

namespace PoolAI.Gateway.Miners;

/// <summary>
/// The gateway's end of the open-miner channel (<c>miner_channel.proto</c>): one bidirectional gRPC stream per miner,
/// authenticated by a key with role <c>miner</c>. It reads the miner's registration, connects it to its proxy grain
/// (<see cref="IOpenMinerGrain"/>, keyed by the key's worker id, so a miner cannot speak for another worker), then
/// forwards each message to the proxy and each lease, cancellation and shard request to the miner. The stream ends — and the proxy
/// fails the leases it held — when the miner goes, the key is revoked or the worker banned (the proxy closes the link
/// at once), a message is malformed or over the size limit, or too many messages were refused.
/// </summary>
public sealed partial class MinerChannelService(
    IGrainFactory grains,
    MinerChannelOptions options,
    MinerConnectionLimiter limiter,
    ILogger<MinerChannelService> logger) : MinerChannel.MinerChannelBase
{
    /// <inheritdoc />
    public override async Task Connect(IAsyncStreamReader<MinerMessage> requestStream, IServerStreamWriter<PoolMessage> responseStream, ServerCallContext context)
    {
        var http = context.GetHttpContext();
        var address = http.Connection.RemoteIpAddress?.ToString() ?? "unknown";
        var role = http.User.FindFirstValue("role");
        if (role != ApiRoles.Miner || http.User.FindFirstValue("sub") is not { Length: 12 } keyId)
            throw new RpcException(new Status(StatusCode.PermissionDenied, $"key: the miner channel takes only keys with role 'miner'; this key's role is '{role}'"));
        if (limiter.Refuse(keyId, address) is { } limited)
            throw new RpcException(new Status(StatusCode.ResourceExhausted, limited));

        using var firstMessage = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken);
        firstMessage.CancelAfter(options.RegistrationTimeout);
        MinerMessage first;
        try
        {
            if (!await requestStream.MoveNext(firstMessage.Token))
                return;
            first = requestStream.Current;
        }
        catch (OperationCanceledException) when (!context.CancellationToken.IsCancellationRequested)
        {
            throw new RpcException(new Status(StatusCode.DeadlineExceeded, $"register: must be the first message, within {options.RegistrationTimeout.TotalSeconds:0} s"));
        }

        if (first.BodyCase != MinerMessage.BodyOneofCase.Register)
            throw new RpcException(new Status(StatusCode.InvalidArgument, $"register: must be the first message; was {first.BodyCase}"));
        var capabilities = Capabilities(first.Register);

        var worker = OpenMiners.WorkerOf(keyId);
        var proxy = grains.GetGrain<IOpenMinerGrain>(worker);
        var link = new MinerLink();
        var reference = grains.CreateObjectReference<IMinerLink>(link);
        OpenMinerSession session;
        try
        {
            session = await proxy.ConnectAsync(reference, new OpenMinerRegistration(keyId, capabilities, address, first.Register.StorageBytes));
        }
        catch (JobValidationException ex)
        {
            grains.DeleteObjectReference<IMinerLink>(reference);
            LogRefusedRegistration(worker, address, ex.Message);
            throw new RpcException(new Status(StatusCode.InvalidArgument, ex.Message));
        }

        LogConnected(worker, address);
        var reason = "the miner closed the stream";
        var status = StatusCode.Aborted;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken, link.Closed);
        var writer = WriteAsync(link, responseStream, stop.Token);
        var heartbeats = HeartbeatAsync(proxy, session.Session, link, stop.Token);
        try
        {
            link.Send(new PoolMessage
            {
                Registered = new Registered
                {
                    Worker = session.Worker,
                    HeartbeatIntervalMs = (int)options.HeartbeatInterval.TotalMilliseconds,
                    LeaseIntervalMs = (int)session.LeaseInterval.TotalMilliseconds,
                    Status = session.Status.ToString(),
                    StatusReason = session.StatusReason ?? string.Empty,
                },
            });
            while (await requestStream.MoveNext(stop.Token))
            {
                link.Heard();
                var answer = await ForwardAsync(proxy, session.Session, requestStream.Current);
                if (answer is { Accepted: false })
                {
                    link.Send(new PoolMessage
                    {
                        Refused = new Refused
                        {
                            Lease = LeaseOf(requestStream.Current),
                            Reason = answer.Refusal ?? string.Empty,
                            ShardRequest = requestStream.Current.BodyCase == MinerMessage.BodyOneofCase.ShardReply ? requestStream.Current.ShardReply.RequestId : string.Empty,
                        },
                    });
                    if (answer.Close)
                    {
                        link.Close($"closed: {answer.Refusal}");
                        break;
                    }
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            reason = link.Reason ?? "the connection was lost";
        }
        catch (RpcException ex) when (ex.StatusCode is StatusCode.InvalidArgument)
        {
            reason = ex.Status.Detail;
            link.Close(reason);
        }
        catch (Exception ex) when (ex is IOException or InvalidOperationException or InvalidDataException or Google.Protobuf.InvalidProtocolBufferException or RpcException)
        {
            // A frame that does not parse, one over the size limit, or a broken connection: this stream ends, nothing else.
            reason = ex is RpcException rpc ? rpc.Status.Detail : $"the stream broke: {ex.Message}";
            status = ex is RpcException { StatusCode: var code } ? code : StatusCode.InvalidArgument;
            link.Close(reason);
        }
        finally
        {
            reason = link.Reason ?? reason;
            await stop.CancelAsync();
            await Task.WhenAll(writer, heartbeats).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            try
            {
                await proxy.DisconnectAsync(session.Session, reason);
            }
            catch (Exception ex)
            {
                LogDisconnectFailed(worker, ex);
            }

            grains.DeleteObjectReference<IMinerLink>(reference);
            GC.KeepAlive(link); // Orleans holds observers weakly
            LogDisconnected(worker, reason);
        }

        if (link.Reason is { } closed && !context.CancellationToken.IsCancellationRequested)
            throw new RpcException(new Status(link.Code ?? status, closed));
    }

    /// <summary>The capabilities a registration claims; the proxy checks them against the pool's rules.</summary>
    private static WorkerCapabilities Capabilities(Register register)
    {
        var kinds = new List<JobKind>();
        foreach (var name in register.Kinds)
        {
            if (!JobKind.TryParse(name, out var kind, out var error))
                throw new RpcException(new Status(StatusCode.InvalidArgument, $"register.kinds: {error}"));
            kinds.Add(kind);
        }

        return new WorkerCapabilities(register.Device, register.Cores, register.MemoryMb, register.GpuMemoryMb, [.. register.Models], register.Slots, kinds);
    }

    private static string LeaseOf(MinerMessage message) => message.BodyCase switch
    {
        MinerMessage.BodyOneofCase.Renew => message.Renew.Lease,
        MinerMessage.BodyOneofCase.Update => message.Update.Lease,
        MinerMessage.BodyOneofCase.Complete => message.Complete.Lease,
        MinerMessage.BodyOneofCase.Fail => message.Fail.Lease,
        _ => string.Empty,
    };

    private static Task<MinerAnswer> ForwardAsync(IOpenMinerGrain proxy, Guid session, MinerMessage message) => message.BodyCase switch
    {
        MinerMessage.BodyOneofCase.Heartbeat => Task.FromResult(MinerAnswer.Taken),
        MinerMessage.BodyOneofCase.SignOff => SignOffAsync(proxy, session),
        MinerMessage.BodyOneofCase.Renew => proxy.RenewAsync(session, message.Renew.Lease),
        MinerMessage.BodyOneofCase.Update => proxy.UpdateAsync(session, message.Update.Lease, message.Update.Offset, message.Update.Text,
            message.Update.Progress is { } p ? new JobProgress(p.Step, p.Total > 0 ? p.Total : null, p.Unit.Length > 0 ? p.Unit[..Math.Min(p.Unit.Length, 32)] : "tokens",
                p.Message.Length > 0 ? p.Message[..Math.Min(p.Message.Length, 200)] : null) : null),
        MinerMessage.BodyOneofCase.Complete => proxy.CompleteAsync(session, message.Complete.Lease, message.Complete.OutputJson, message.Complete.Concurrency),
        MinerMessage.BodyOneofCase.Fail => proxy.FailAsync(session, message.Fail.Lease, message.Fail.Reason, message.Fail.BadInput, message.Fail.HandedBack),
        MinerMessage.BodyOneofCase.ShardReply => proxy.ShardReplyAsync(session, ShardMessages.FromChannel(message.ShardReply)),
        MinerMessage.BodyOneofCase.Register => throw new RpcException(new Status(StatusCode.InvalidArgument, "register: only the first message may register")),
        _ => throw new RpcException(new Status(StatusCode.InvalidArgument, "message: empty or of a type this pool does not know")),
    };

    private static async Task<MinerAnswer> SignOffAsync(IOpenMinerGrain proxy, Guid session)
    {
        await proxy.SignOffAsync(session);
        return MinerAnswer.Taken;
    }

    /// <summary>Writes the link's messages to the miner, one at a time (a gRPC stream takes one write at a time).</summary>
    private static async Task WriteAsync(MinerLink link, IServerStreamWriter<PoolMessage> stream, CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var message in link.Outgoing.ReadAllAsync(cancellationToken))
                await stream.WriteAsync(message, cancellationToken);
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or InvalidOperationException)
        {
            link.Close(link.Reason ?? "the connection was lost");
        }
    }

    /// <summary>
    /// Tells the proxy the connection is alive every heartbeat interval, and closes it when the proxy says so (key
    /// revoked, worker banned, replaced) or when the miner has sent nothing for three and a half intervals.
    /// </summary>
    private async Task HeartbeatAsync(IOpenMinerGrain proxy, Guid session, MinerLink link, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(options.HeartbeatInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                if (link.Silence > options.HeartbeatInterval * 3.5)
                {
                    link.Close($"no message from the miner for {link.Silence.TotalSeconds:0} s (heartbeats are due every {options.HeartbeatInterval.TotalSeconds:0} s)", StatusCode.DeadlineExceeded);
                    return;
                }

                try
                {
                    if (await proxy.HeartbeatAsync(session) is { } reason)
                    {
                        link.Close(reason, StatusCode.PermissionDenied);
                        return;
                    }
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    LogHeartbeatFailed(ex);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // The stream ended.
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Open miner {Worker} connected from {Address}")]
    private partial void LogConnected(string worker, string address);

    [LoggerMessage(Level = LogLevel.Information, Message = "Open miner {Worker}'s stream ended: {Reason}")]
    private partial void LogDisconnected(string worker, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Open miner {Worker} from {Address} refused: {Reason}")]
    private partial void LogRefusedRegistration(string worker, string address, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not tell the proxy of {Worker} that its connection ended; it finds out when heartbeats stop")]
    private partial void LogDisconnectFailed(string worker, Exception exception);

    [LoggerMessage(Level = LogLevel.Debug, Message = "A miner connection's heartbeat to its proxy failed; the next one retries")]
    private partial void LogHeartbeatFailed(Exception exception);
}

/// <summary>
/// One miner connection as its proxy grain reaches it (a grain observer): leases, cancellations and shard requests go
/// into an unbounded queue that the connection's writer sends in order; a close records its reason and ends the stream.
/// </summary>
internal sealed class MinerLink : IMinerLink
{
    private readonly Channel<PoolMessage> _outgoing = Channel.CreateUnbounded<PoolMessage>(new UnboundedChannelOptions { SingleReader = true });
    private readonly CancellationTokenSource _closed = new();
    private string? _reason;
    private StatusCode? _code;
    private long _heard = System.Diagnostics.Stopwatch.GetTimestamp();

    /// <summary>Messages waiting to be written to the miner.</summary>
    public ChannelReader<PoolMessage> Outgoing => _outgoing.Reader;

    /// <summary>Fires when the connection must close.</summary>
    public CancellationToken Closed => _closed.Token;

    /// <summary>Why the connection was closed; null while open.</summary>
    public string? Reason => Volatile.Read(ref _reason);

    /// <summary>The gRPC status the stream ends with, when the close chose one.</summary>
    public StatusCode? Code => _code;

    /// <summary>Time since the miner last sent a message.</summary>
    public TimeSpan Silence => System.Diagnostics.Stopwatch.GetElapsedTime(Interlocked.Read(ref _heard));

    /// <summary>The miner sent a message.</summary>
    public void Heard() => Interlocked.Exchange(ref _heard, System.Diagnostics.Stopwatch.GetTimestamp());

    /// <summary>Queues <paramref name="message"/> for the miner.</summary>
    /// <exception cref="InvalidOperationException">The connection is closed.</exception>
    public void Send(PoolMessage message)
    {
        if (!_outgoing.Writer.TryWrite(message))
            throw new InvalidOperationException($"the miner's connection is closed ({Reason})");
    }

    /// <summary>Closes the connection with <paramref name="reason"/> and, when given, the status <paramref name="code"/> (the first reason given is kept).</summary>
    public void Close(string reason, StatusCode? code = null)
    {
        if (Interlocked.CompareExchange(ref _reason, reason, null) is null)
            _code = code;
        _outgoing.Writer.TryComplete();
        try
        {
            _closed.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // Already gone.
        }
    }

    /// <inheritdoc />
    public Task LeaseAsync(MinerLease lease)
    {
        Send(new PoolMessage
        {
            Lease = new Lease
            {
                Lease_ = lease.Lease,
                Job = lease.JobId.ToString(),
                Attempt = lease.Attempt,
                Kind = lease.Kind.Name,
                Target = lease.Target,
                InputJson = lease.InputJson,
                ChunkIntervalMs = (int)lease.ChunkInterval.TotalMilliseconds,
            },
        });
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task CancelAsync(string lease, string reason)
    {
        _outgoing.Writer.TryWrite(new PoolMessage { Cancel = new Cancel { Lease = lease, Reason = reason } });
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task ShardRequestAsync(MinerShardRequest request)
    {
        Send(new PoolMessage { ShardRequest = ShardMessages.ToChannel(request) });
        return Task.CompletedTask;
    }

    /// <summary>The pool closes the connection for good (key revoked, worker banned, replaced by a newer one): PermissionDenied, which a miner does not retry.</summary>
    public Task CloseAsync(string reason)
    {
        Close(reason, StatusCode.PermissionDenied);
        return Task.CompletedTask;
    }
}

/// <summary>Settings of the miner channel (section <c>PoolAI:Gateway:Miners</c>).</summary>
public sealed class MinerChannelOptions
{
    /// <summary>Configuration section.</summary>
    public const string Section = "PoolAI:Gateway:Miners";

    /// <summary>
    /// Largest message a miner may send, bytes; a larger one closes its stream (gRPC status ResourceExhausted). Default
    /// <see cref="OpenMiners.MaxMessageBytes"/>: a shard's reply of 16 MiB and 64 KiB more.
    /// </summary>
    public int MaxMessageBytes { get; set; } = OpenMiners.MaxMessageBytes;

    /// <summary>
    /// How often a miner sends a heartbeat, and the gateway tells the miner's proxy that the connection is alive (a
    /// proxy that hears nothing for 35 s takes the connection as lost). A revoked key or a banned worker closes the
    /// channel at once, not at a heartbeat.
    /// </summary>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How long a new connection may take to register.</summary>
    public TimeSpan RegistrationTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Connections one key may open per minute.</summary>
    public int ConnectionsPerKeyPerMinute { get; set; } = 12;

    /// <summary>Connections one remote address may open per minute.</summary>
    public int ConnectionsPerAddressPerMinute { get; set; } = 60;
}

/// <summary>Rate limits of new miner connections, per key and per remote address (token buckets of <see cref="System.Threading.RateLimiting"/>).</summary>
public sealed class MinerConnectionLimiter(MinerChannelOptions options) : IDisposable
{
    private readonly PartitionedRateLimiter<string> _perKey = PartitionedRateLimiter.Create<string, string>(key =>
        RateLimitPartition.GetTokenBucketLimiter(key, _ => Bucket(options.ConnectionsPerKeyPerMinute)));

    private readonly PartitionedRateLimiter<string> _perAddress = PartitionedRateLimiter.Create<string, string>(address =>
        RateLimitPartition.GetTokenBucketLimiter(address, _ => Bucket(options.ConnectionsPerAddressPerMinute)));

    /// <summary>Why a new connection of <paramref name="keyId"/> from <paramref name="address"/> is refused now; null to let it in.</summary>
    public string? Refuse(string keyId, string address)
    {
        using var byAddress = _perAddress.AttemptAcquire(address);
        if (!byAddress.IsAcquired)
            return $"connections: address {address} may open {options.ConnectionsPerAddressPerMinute} miner connections a minute; wait and retry";
        using var byKey = _perKey.AttemptAcquire(keyId);
        return byKey.IsAcquired ? null : $"connections: key {keyId} may open {options.ConnectionsPerKeyPerMinute} connections a minute; wait and retry";
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _perKey.Dispose();
        _perAddress.Dispose();
    }

    private static TokenBucketRateLimiterOptions Bucket(int perMinute) => new()
    {
        TokenLimit = Math.Max(1, perMinute),
        TokensPerPeriod = Math.Max(1, perMinute),
        ReplenishmentPeriod = TimeSpan.FromMinutes(1),
        QueueLimit = 0,
        AutoReplenishment = true,
    };
}
