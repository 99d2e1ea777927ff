using System.Collections.Concurrent;
using System.Threading.Channels;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Polly;
using Polly.Retry;
using PoolAI.Execution;
using PoolAI.Jobs;
using PoolAI.Miners;
using PoolAI.Miners.Channel;
using PoolAI.Volumes.Stores;
using PoolAI.Workers;

namespace PoolAI.Silo.Miners;

/// <summary>
/// An open miner's link to the pool (<c>--pool URL --key pai_…</c>): this process runs its own local silo, which
/// hosts the executors, and this client connects it to the pool's gateway over the miner channel — never to the
/// cluster's ports or database. It registers what the local silo serves, then runs each lease it is given on the
/// local executor grain (the same code a trusted miner runs), sends streamed output, lease renewals and the result
/// back, and stops a lease's work when the pool cancels it. With <c>--storage</c> it also offers that much of its disk
/// to the pool's volumes and answers the pool's shard requests from the local silo's <see cref="ShardStore"/>
/// (<see cref="OpenMinerStorage"/>), beside the leases. A lost connection is retried with backoff (Polly); the
/// pool treats it as lost leases and requeues them. A refusal that retrying cannot mend (a wrong, revoked or
/// non-miner key, a registration that breaks a rule) stops the process with exit code 2 and the pool's reason.
/// </summary>
public sealed partial class OpenMinerClient(
    OpenMinerOptions options,
    IGrainFactory grains,
    ILocalSiloDetails silo,
    WorkerCapabilities capabilities,
    JobKindRegistry kinds,
    IHostApplicationLifetime lifetime,
    IServiceProvider services,
    ILogger<OpenMinerClient> logger) : ILifecycleParticipant<ISiloLifecycle>
{
    private readonly CancellationTokenSource _stopping = new();
    private readonly OpenMinerStorage? _storage = options.StorageBytes > 0 && services.GetService<ShardStore>() is { } store ? new OpenMinerStorage(store, options.StorageBytes) : null;
    private readonly ConcurrentDictionary<string, RunningLease> _leases = new(StringComparer.Ordinal);
    private Task? _run;
    private volatile bool _draining;
    private ChannelWriter<MinerMessage>? _outgoing;

    /// <summary>How long a finished lease's sink stays reachable for an executor that is still stopping.</summary>
    private static readonly TimeSpan SinkGrace = TimeSpan.FromSeconds(10);

    /// <summary>The worker id the pool credits, once registered.</summary>
    public string? Worker { get; private set; }

    /// <inheritdoc />
    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(OpenMinerClient), ServiceLifecycleStage.Active + 1, Start, StopAsync);

    private Task Start(CancellationToken cancellationToken)
    {
        _run = Task.Run(() => RunAsync(_stopping.Token), CancellationToken.None);
        return Task.CompletedTask;
    }

    /// <summary>
    /// Stops gracefully: new leases are handed back at once, running ones may finish for up to the drain timeout, and
    /// the rest are handed back over the channel (not counted against the miner) before the connection closes.
    /// </summary>
    private async Task StopAsync(CancellationToken cancellationToken)
    {
        _draining = true;
        // No new lease from now on; what runs may finish.
        _outgoing?.TryWrite(new MinerMessage { SignOff = new SignOff() });
        LogDraining(_leases.Count, options.DrainTimeout.TotalSeconds);
        var deadline = DateTime.UtcNow + options.DrainTimeout;
        while (!_leases.IsEmpty && DateTime.UtcNow < deadline && !cancellationToken.IsCancellationRequested)
            await Task.Delay(100, CancellationToken.None);
        foreach (var lease in _leases.Values)
        {
            lease.HandBack();
            lease.Cancel();
        }

        // Close this side of the stream after the hand-backs, and let the pool read them all and end the call: cutting
        // the call short would drop what it had not read yet, and it would count those attempts as lost.
        _outgoing?.TryComplete();
        if (_run is not null)
            await _run.WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        await _stopping.CancelAsync();
        if (_run is not null)
            await _run.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        var retry = new ResiliencePipelineBuilder().AddRetry(new RetryStrategyOptions
        {
            ShouldHandle = new PredicateBuilder().Handle<Exception>(ex => ex is not OperationCanceledException && !IsPermanent(ex)),
            MaxRetryAttempts = int.MaxValue,
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = true,
            Delay = TimeSpan.FromMilliseconds(500),
            MaxDelay = TimeSpan.FromSeconds(30),
            OnRetry = args =>
            {
                LogReconnecting(options.Pool.ToString(), args.RetryDelay.TotalSeconds, args.Outcome.Exception?.Message ?? "the stream ended");
                return default;
            },
        }).Build();
        using var channel = GrpcChannel.ForAddress(options.Pool, new GrpcChannelOptions
        {
            HttpHandler = new SocketsHttpHandler
            {
                KeepAlivePingDelay = TimeSpan.FromSeconds(20),
                KeepAlivePingTimeout = TimeSpan.FromSeconds(10),
                PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
                EnableMultipleHttp2Connections = true,
            },
            MaxReceiveMessageSize = OpenMiners.MaxMessageBytes, // a shard's put
        });
        try
        {
            var client = new MinerChannel.MinerChannelClient(channel);
            while (!cancellationToken.IsCancellationRequested && !_draining)
            {
                // A connection that registered and later broke starts a fresh pipeline: the backoff grows only while
                // the pool cannot be reached, not with every outage the miner has had.
                await retry.ExecuteAsync(async token =>
                {
                    var registered = false;
                    try
                    {
                        await ConnectOnceAsync(client, () => registered = true, token);
                    }
                    catch (Exception ex) when (registered && !token.IsCancellationRequested && !IsPermanent(ex))
                    {
                        // Lost after registering: connect again at once (the outer loop).
                    }
                }, cancellationToken);
                if (!cancellationToken.IsCancellationRequested)
                    LogReconnecting(options.Pool.ToString(), 0, "the connection was lost");
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Stopping.
        }
        catch (RpcException ex) when (IsPermanent(ex))
        {
            var reason = ex.StatusCode switch
            {
                StatusCode.Unauthenticated => "key: the pool does not know this key, or it was revoked",
                StatusCode.Unimplemented => "PoolAI:Miner:Pool: the address does not serve the miner channel (is it the pool gateway's miner endpoint?)",
                StatusCode.Internal => $"PoolAI:Miner:Pool: the address does not speak HTTP/2 (give the gateway's HTTPS endpoint, or its plain HTTP/2 miner endpoint): {ex.Status.Detail}",
                _ => ex.Status.Detail,
            };
            LogRefused(options.Pool.ToString(), reason);
            Console.Error.WriteLine($"poolai silo: the pool at {options.Pool} refused this miner: {reason}");
            Environment.ExitCode = 2;
            lifetime.StopApplication();
        }
    }

    /// <summary>
    /// Refusals that retrying cannot mend: the key (unknown, revoked, not a miner's), the worker banned, another
    /// connection with the same key, a registration the pool's rules refuse, or an address that is not the miner
    /// channel (it answers in HTTP/1.1 only).
    /// </summary>
    private static bool IsPermanent(Exception ex) =>
        ex is RpcException { StatusCode: StatusCode.Unauthenticated or StatusCode.PermissionDenied or StatusCode.InvalidArgument or StatusCode.Unimplemented }
        || (ex is RpcException { StatusCode: StatusCode.Internal } wrong && wrong.Status.Detail.Contains("HTTP_1_1_REQUIRED", StringComparison.Ordinal));

    private async Task ConnectOnceAsync(MinerChannel.MinerChannelClient client, Action registeredNow, CancellationToken cancellationToken)
    {
        var headers = new Metadata { { "authorization", $"Bearer {options.Key}" } };
        using var call = client.Connect(headers, cancellationToken: cancellationToken);
        var outgoing = Channel.CreateUnbounded<MinerMessage>(new UnboundedChannelOptions { SingleReader = true });
        var register = new Register
        {
            Device = capabilities.Device, Cores = capabilities.Cores, MemoryMb = capabilities.MemoryMb, GpuMemoryMb = capabilities.GpuMemoryMb, Slots = capabilities.Slots,
            StorageBytes = _storage?.CapacityBytes ?? 0,
        };
        register.Models.AddRange(capabilities.Models);
        // Only the kinds the pool lets open miners run that this silo executes.
        register.Kinds.AddRange((capabilities.Kinds ?? []).Where(kind => kinds.TryGet(kind, out var descriptor) && descriptor.KnownTargets.Any(descriptor.RunsOnOpenMiners)).Select(kind => kind.Name));
        await call.RequestStream.WriteAsync(new MinerMessage { Register = register }, cancellationToken);
        if (!await call.ResponseStream.MoveNext(cancellationToken) || call.ResponseStream.Current.BodyCase != PoolMessage.BodyOneofCase.Registered)
            throw new RpcException(new Status(StatusCode.Unavailable, "the pool did not answer the registration"));
        var registered = call.ResponseStream.Current.Registered;
        Worker = registered.Worker;
        registeredNow();
        LogRegistered(registered.Worker, options.Pool.ToString(), string.Join(", ", register.Models), register.Slots, register.StorageBytes);
        if (registered.Status is { Length: > 0 } status && status != nameof(WorkerStatus.Active))
            LogNotActive(registered.Worker, status, registered.StatusReason is { Length: > 0 } why ? why : "no reason given");
        _outgoing = outgoing.Writer;

        using var connection = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var writer = WriteAsync(call.RequestStream, outgoing.Reader, connection.Token);
        var heartbeats = HeartbeatAsync(outgoing.Writer, TimeSpan.FromMilliseconds(Math.Max(100, registered.HeartbeatIntervalMs)), connection.Token);
        var leaseInterval = TimeSpan.FromMilliseconds(Math.Max(100, registered.LeaseIntervalMs));
        try
        {
            while (await call.ResponseStream.MoveNext(connection.Token))
            {
                var message = call.ResponseStream.Current;
                switch (message.BodyCase)
                {
                    case PoolMessage.BodyOneofCase.Lease:
                        var lease = new RunningLease(message.Lease, outgoing.Writer, CancellationTokenSource.CreateLinkedTokenSource(connection.Token));
                        if (_draining)
                        {
                            lease.HandBack();
                            lease.Dispose();
                            break;
                        }

                        _leases[lease.Id] = lease;
                        _ = Task.Run(() => RunLeaseAsync(lease, leaseInterval), CancellationToken.None);
                        break;
                    case PoolMessage.BodyOneofCase.Cancel:
                        if (_leases.TryGetValue(message.Cancel.Lease, out var cancelled))
                            cancelled.Cancel();
                        break;
                    case PoolMessage.BodyOneofCase.ShardRequest:
                        // Off the loop: a shard's disk work must not hold up leases, cancellations or other requests.
                        var request = message.ShardRequest;
                        _ = Task.Run(() => AnswerShardAsync(request, outgoing.Writer, connection.Token), CancellationToken.None);
                        break;
                    case PoolMessage.BodyOneofCase.Refused:
                        LogMessageRefused(message.Refused.Lease is { Length: > 0 } refusedLease ? refusedLease : message.Refused.ShardRequest, message.Refused.Reason);
                        break;
                }
            }

            if (_draining)
                return; // this miner closed its side after signing off; the pool has ended the call in turn
            throw new RpcException(new Status(StatusCode.Unavailable, "the pool ended the stream"));
        }
        finally
        {
            await connection.CancelAsync();
            outgoing.Writer.TryComplete();
            foreach (var lease in _leases.Values)
                lease.Cancel(); // the pool requeues them: a lost channel is a lost lease
            await Task.WhenAll(writer, heartbeats).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    /// <summary>Writes the queued messages in order; when the queue is completed (a graceful stop), closes this side of the stream.</summary>
    private static async Task WriteAsync(IClientStreamWriter<MinerMessage> stream, ChannelReader<MinerMessage> messages, CancellationToken cancellationToken)
    {
        await foreach (var message in messages.ReadAllAsync(cancellationToken))
            await stream.WriteAsync(message, cancellationToken);
        await stream.CompleteAsync();
    }

    private static async Task HeartbeatAsync(ChannelWriter<MinerMessage> outgoing, TimeSpan interval, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(interval);
        while (await timer.WaitForNextTickAsync(cancellationToken))
            outgoing.TryWrite(new MinerMessage { Heartbeat = new Heartbeat() });
    }

    /// <summary>Answers one shard request from this miner's store (an error when it offers none) on the connection it came on.</summary>
    private async Task AnswerShardAsync(ShardRequest request, ChannelWriter<MinerMessage> outgoing, CancellationToken cancellationToken)
    {
        try
        {
            var reply = _storage is { } storage
                ? await storage.AnswerAsync(request, cancellationToken)
                : OpenMinerStorage.Error(request, "storage: this miner offers none (start it with --storage SIZE)");
            outgoing.TryWrite(new MinerMessage { ShardReply = reply });
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The connection ended: the pool failed the request already.
        }
        catch (Exception ex)
        {
            LogShardRequestFailed(request.RequestId, ex);
            outgoing.TryWrite(new MinerMessage { ShardReply = OpenMinerStorage.Error(request, $"the miner failed: {ex.Message}") });
        }
    }

    /// <summary>Runs one lease on this silo's executor grain and sends its outcome.</summary>
    private async Task RunLeaseAsync(RunningLease lease, TimeSpan leaseInterval)
    {
        var sink = new LeaseSink(lease);
        var reference = grains.CreateObjectReference<IForwardingExecutionSink>(sink);
        try
        {
            if (!JobKind.TryParse(lease.Message.Kind, out var kind, out _) || !kinds.TryGet(kind, out var descriptor))
            {
                lease.Send(new MinerMessage { Fail = new Fail { Lease = lease.Id, Reason = $"this miner does not run {lease.Message.Kind} jobs" } });
                return;
            }

            var input = (IJobInput)ChannelJson.Read(lease.Message.InputJson, descriptor.InputType);
            var request = new ExecutionRequest(Guid.Parse(lease.Message.Job), lease.Message.Attempt, kind, lease.Message.Target, input, reference,
                ChunkInterval: TimeSpan.FromMilliseconds(Math.Max(1, lease.Message.ChunkIntervalMs)), LeaseInterval: leaseInterval);
            var result = await grains.GetGrain<IJobExecutorGrain>(ExecutorKeys.Pinned(kind, lease.Message.Target, silo.SiloAddress.ToString()))
                .RunAsync(request, lease.Token);
            lease.Send(new MinerMessage { Complete = new Complete { Lease = lease.Id, OutputJson = ChannelJson.Write(result.Output), Concurrency = result.Concurrency } });
        }
        catch (OperationCanceledException) when (lease.Token.IsCancellationRequested)
        {
            // The pool cancelled the lease, or the connection is gone: nothing to send.
        }
        catch (WorkHandedBackException)
        {
            lease.HandBack(); // once: the sink may have said so already
        }
        catch (Exception ex)
        {
            lease.Send(new MinerMessage { Fail = new Fail { Lease = lease.Id, Reason = ex.Message, BadInput = ex is JobValidationException or System.Text.Json.JsonException } });
        }
        finally
        {
            _leases.TryRemove(lease.Id, out _);
            sink.Close();
            lease.Dispose();
            // The executor may still be stopping (a cancelled call returns before the grain has stopped): keep the sink
            // reachable a while, quietly refusing, so its last reports do not land on a deleted object. Orleans holds
            // observers weakly, so the continuation also keeps it alive until then.
            _ = Task.Delay(SinkGrace).ContinueWith(_ =>
            {
                grains.DeleteObjectReference<IForwardingExecutionSink>(reference);
                GC.KeepAlive(sink);
            }, TaskScheduler.Default);
        }
    }

    /// <summary>A lease this miner runs.</summary>
    private sealed class RunningLease(Lease message, ChannelWriter<MinerMessage> outgoing, CancellationTokenSource cancellation) : IDisposable
    {
        public Lease Message { get; } = message;

        public string Id => Message.Lease_;

        public CancellationToken Token => cancellation.Token;

        public bool Cancelled => cancellation.IsCancellationRequested;

        private int _handedBack;

        public void Send(MinerMessage message) => outgoing.TryWrite(message);

        /// <summary>Gives the lease back to the pool unfinished (once), as a miner that stops does.</summary>
        public void HandBack()
        {
            if (Interlocked.Exchange(ref _handedBack, 1) == 0)
                Send(new MinerMessage { Fail = new Fail { Lease = Id, Reason = "the miner is stopping", HandedBack = true } });
        }

        public void Cancel()
        {
            try
            {
                cancellation.Cancel();
            }
            catch (ObjectDisposedException)
            {
                // Ended.
            }
        }

        public void Dispose() => cancellation.Dispose();
    }

    /// <summary>The local executor's lease holder for one lease: forwards what it reports to the pool over the channel.</summary>
    private sealed class LeaseSink(RunningLease lease) : IForwardingExecutionSink
    {
        private volatile bool _closed;

        /// <summary>The lease ended: reports from now on are dropped, and renewals refused.</summary>
        public void Close() => _closed = true;

        public Task OnUpdateAsync(ExecutionUpdate update)
        {
            if (_closed)
                return Task.CompletedTask;
            var message = new Update { Lease = lease.Id, Offset = update.Offset, Text = update.Text };
            if (update.Progress is { } progress)
                message.Progress = new Progress { Step = progress.Step, Total = progress.Total ?? 0, Unit = progress.Unit, Message = progress.Message ?? string.Empty };
            lease.Send(new MinerMessage { Update = message });
            return Task.CompletedTask;
        }

        public Task<bool> RenewLeaseAsync(int attempt, string silo)
        {
            if (_closed)
                return Task.FromResult(false);
            if (!lease.Cancelled)
                lease.Send(new MinerMessage { Renew = new Renew { Lease = lease.Id } });
            return Task.FromResult(!lease.Cancelled);
        }

        // The miner channel carries no artifacts: kinds that store them do not run on open miners.
        public Task<bool> CheckpointAsync(int attempt, JobCheckpoint checkpoint) => Task.FromResult(false);

        public Task<bool> AddArtifactAsync(int attempt, ArtifactRef artifact) => Task.FromResult(false);

        public Task HandBackAsync(int attempt, string silo)
        {
            if (!_closed)
                lease.HandBack();
            return Task.CompletedTask;
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Open miner {Worker} registered with the pool at {Pool}: serves {Models} with {Slots} slots, offers {StorageBytes} bytes of storage")]
    private partial void LogRegistered(string worker, string pool, string models, int slots, long storageBytes);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Shard request {Request} failed")]
    private partial void LogShardRequestFailed(string request, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Worker {Worker} is {Status} and gets no new work: {Reason}")]
    private partial void LogNotActive(string worker, string status, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Stopping: signed off; {Running} jobs running may finish for up to {Seconds} s, then the rest are handed back")]
    private partial void LogDraining(int running, double seconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Lost the pool at {Pool}; connecting again in {Seconds:0.0} s ({Reason})")]
    private partial void LogReconnecting(string pool, double seconds, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "The pool at {Pool} refused this miner: {Reason}")]
    private partial void LogRefused(string pool, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The pool refused a message about lease {Lease}: {Reason}")]
    private partial void LogMessageRefused(string lease, string reason);
}

/// <summary>An open miner's connection settings (<c>PoolAI:Miner:Pool</c> and <c>PoolAI:Miner:Key</c>).</summary>
/// <param name="Pool">The pool gateway's miner channel URL (<c>https://…</c>, or <c>http://…</c> for an h2c endpoint).</param>
/// <param name="Key">The miner API key.</param>
/// <param name="DrainTimeout">How long running leases may finish when the miner stops, before they are handed back.</param>
/// <param name="StorageBytes">Bytes of shards offered to the pool's volumes (<c>PoolAI:Miner:StorageBytes</c>, <c>--storage</c>); 0 offers none.</param>
public sealed record OpenMinerOptions(Uri Pool, string Key, TimeSpan DrainTimeout, long StorageBytes = 0)
{
    /// <inheritdoc />
    public override string ToString() => $"OpenMinerOptions {{ Pool = {Pool} }}"; // never the key
}
