using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PoolAI.Auth;
using PoolAI.Execution;
using PoolAI.Jobs;
using PoolAI.Models;
using Orleans.Placement;
using PoolAI.Placement;
using PoolAI.Rewards;
using PoolAI.Workers;

namespace PoolAI.Miners;

/// <summary>
/// The proxy of one open miner on a coordinator (see <see cref="IOpenMinerGrain"/>). It holds the miner's current
/// connection (a session id and the gateway's <see cref="IMinerLink"/>) and its leases in memory: a lease is a random
/// 128-bit id bound to one attempt and one session, and the only handle the miner has on the job. Lease renewals,
/// streamed output and results reach the job only through it, after the checks; the pool measures the attempt's time
/// itself and counts its work units from the checked output, so nothing the miner claims about speed or size is taken
/// on trust. A miner that offers storage is also a shard store: each store call is a request over its channel whose
/// reply is checked before the caller sees it (<c>OpenMinerGrain.Shards.cs</c>). Reentrant: an attempt's run, or a
/// store call, waits for the miner while the same activation takes its messages.
/// </summary>
[CoordinatorFilter]
[Reentrant]
[Immovable(ImmovableKind.Rebalancer)] // its connection and leases live in memory; a migration would drop them
public sealed partial class OpenMinerGrain(
    JobKindRegistry kinds,
    ModelRegistry models,
    IOptions<JobOptions> options,
    ILogger<OpenMinerGrain> logger) : Grain, IOpenMinerGrain
{
    /// <summary>How often the proxy re-asserts its entry in the <see cref="IOpenMinerDirectoryGrain"/> (which lives in memory).</summary>
    public static readonly TimeSpan DirectoryRefresh = TimeSpan.FromSeconds(15);

    /// <summary>A connection whose gateway has not sent a heartbeat for this long is taken as lost (three of the gateway's default 10 s heartbeats, and some).</summary>
    public static readonly TimeSpan HeartbeatTimeout = TimeSpan.FromSeconds(35);

    /// <summary>Longest streamed text in one update, characters.</summary>
    public const int MaxUpdateChars = 64 * 1024;

    /// <summary>Refused messages after which a connection is closed.</summary>
    public const int MaxRefusalsPerConnection = 20;

    private const int RememberedEndedLeases = 1024;

    private readonly Dictionary<string, LeaseHold> _leases = new(StringComparer.Ordinal);
    private readonly HashSet<string> _ended = new(StringComparer.Ordinal);
    private readonly Queue<string> _endedOrder = new();
    private readonly List<string> _refusals = [];
    private IMinerLink? _link;
    private Guid _session;
    private WorkerCapabilities? _capabilities;
    private long _lastHeartbeat;
    private long _lastDirectoryWrite;
    private long _lastRecheck;
    private bool _signedOff;
    private int _refusedThisConnection;
    private IGrainTimer? _watch;

    private string Worker => this.GetPrimaryKeyString();

    private string Silo => OpenMiners.SiloOf(Worker);

    /// <inheritdoc />
    public async Task<OpenMinerSession> ConnectAsync(IMinerLink link, OpenMinerRegistration registration)
    {
        ArgumentNullException.ThrowIfNull(link);
        ArgumentNullException.ThrowIfNull(registration);
        if (OpenMiners.WorkerOf(registration.KeyId) != Worker)
            throw new JobValidationException("key", $"authenticates worker {OpenMiners.WorkerOf(registration.KeyId)}, not {Worker}");
        var capabilities = Check(registration.Capabilities);
        if (registration.StorageBytes is < 0 or > OpenMiners.MaxStorageBytes)
            throw new JobValidationException("register.storage_bytes", $"must be between 0 and {OpenMiners.MaxStorageBytes} (1 PiB); was {registration.StorageBytes}");
        var view = await GrainFactory.GetGrain<IWorkerGrain>(Worker).RegisterAsync(Silo, capabilities);
        if (view.Status == WorkerStatus.Banned)
            throw new JobValidationException("key", $"worker {Worker} is banned: {view.StatusReason ?? "no reason given"}");
        if (_link is { } earlier)
        {
            await EndConnectionAsync("replaced by a newer connection of the same miner", signOff: false); // registered again just now
            _ = earlier.CloseAsync("replaced by a newer connection of the same miner").ContinueWith(static t => _ = t.Exception, TaskScheduler.Default);
        }

        _session = Guid.NewGuid();
        _link = link;
        _capabilities = capabilities;
        _lastHeartbeat = _lastRecheck = Stopwatch.GetTimestamp();
        _refusedThisConnection = 0;
        _storageBytes = registration.StorageBytes;
        _signedOff = false;
        await WriteDirectoryAsync();
        await WriteStoreAsync();
        _watch ??= this.RegisterGrainTimer(WatchAsync, TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(10));
        LogConnected(Worker, registration.Address, string.Join(", ", capabilities.Models), capabilities.Slots, _storageBytes);
        return new OpenMinerSession(_session, Worker, options.Value.LeaseInterval, view.Status, view.StatusReason);
    }

    /// <inheritdoc />
    public async Task SignOffAsync(Guid session)
    {
        if (session != _session || _link is null || _signedOff)
            return;
        _signedOff = true;
        await GrainFactory.GetGrain<IOpenMinerDirectoryGrain>(IOpenMinerDirectoryGrain.Key).SetAsync(Worker, null);
        await RemoveStoreAsync("the open miner signed off");
        await GrainFactory.GetGrain<IWorkerGrain>(Worker).SignOffAsync();
        LogSignedOff(Worker, _leases.Count);
    }

    /// <inheritdoc />
    public async Task DisconnectAsync(Guid session, string reason)
    {
        if (session != _session || _link is null)
            return;
        await EndConnectionAsync(reason);
    }

    /// <inheritdoc />
    public async Task<string?> HeartbeatAsync(Guid session)
    {
        if (session != _session || _link is null)
            return "replaced by a newer connection of the same miner, or ended";
        _lastHeartbeat = Stopwatch.GetTimestamp();
        if (!_signedOff && Stopwatch.GetElapsedTime(_lastDirectoryWrite) >= DirectoryRefresh)
            await WriteDirectoryAsync();
        if (StoreRefreshDue)
            await WriteStoreAsync();
        if (Stopwatch.GetElapsedTime(_lastRecheck) < OpenMiners.RecheckInterval)
            return null;
        _lastRecheck = Stopwatch.GetTimestamp();
        var key = await GrainFactory.GetGrain<IApiKeyGrain>(OpenMiners.KeyOf(Worker)!).GetAsync();
        var reason = key is null ? "the miner key no longer exists"
            : key.RevokedAt is not null ? "the miner key was revoked"
            : await GrainFactory.GetGrain<IWorkerGrain>(Worker).GetAsync() is { Status: WorkerStatus.Banned } banned ? $"worker {Worker} is banned: {banned.StatusReason ?? "no reason given"}"
            : null;
        if (reason is not null)
            await EndConnectionAsync(reason);
        return reason;
    }

    /// <inheritdoc />
    public async Task CloseAsync(string reason)
    {
        if (_link is not { } link)
            return;
        await EndConnectionAsync(reason);
        _ = link.CloseAsync(reason).ContinueWith(static t => _ = t.Exception, TaskScheduler.Default);
    }

    /// <inheritdoc />
    public async Task<JobResult> RunAsync(ExecutionRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (_link is not { } link || _capabilities is not { } capabilities)
            throw new SiloUnavailableException($"open miner {Worker} is not connected");
        if (_signedOff)
            throw new WorkHandedBackException(Silo); // it is stopping: the job waits for another worker, uncounted
        if (capabilities.Kinds?.Contains(request.Kind) != true)
            throw new SiloUnavailableException($"open miner {Worker} does not run {request.Kind} jobs");
        var id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        var hold = new LeaseHold(id, request, _session, Stopwatch.GetTimestamp());
        _leases[id] = hold;
        try
        {
            try
            {
                await link.LeaseAsync(new MinerLease(id, request.JobId, request.Attempt, request.Kind, request.Target, ChannelJson.Write(request.Input),
                    request.ChunkInterval ?? options.Value.ChunkInterval)).WaitAsync(options.Value.LeaseTimeout, cancellationToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                if (hold.Session == _session)
                    await EndConnectionAsync($"the lease could not be sent ({ex.GetType().Name})");
                throw new SiloUnavailableException($"open miner {Worker} lost its connection: the lease could not be sent");
            }

            LogLeased(Worker, request.JobId, request.Attempt);
            using var cancel = cancellationToken.Register(static state => ((LeaseHold)state!).Result.TrySetCanceled(), hold);
            return await hold.Result.Task;
        }
        finally
        {
            if (End(id) && _link is { } current && hold.Session == _session)
            {
                // Ended here (cancelled, the lease refused), not by the miner's own message: tell it to stop.
                _ = current.CancelAsync(id, "the attempt is no longer the job's current one").ContinueWith(static t => _ = t.Exception, TaskScheduler.Default);
            }
        }
    }

    /// <inheritdoc />
    public async Task<MinerAnswer> RenewAsync(Guid session, string lease)
    {
        if (Held(session, lease) is not { } hold)
            return Refusal(session, lease, "renew");
        if (hold.Request.Sink is { } sink && !await sink.RenewLeaseAsync(hold.Request.Attempt, Silo))
        {
            hold.Result.TrySetCanceled();
            return MinerAnswer.Refused("the attempt is no longer the job's current one (requeued, cancelled, expired or finished)");
        }

        return MinerAnswer.Taken;
    }

    /// <inheritdoc />
    public async Task<MinerAnswer> UpdateAsync(Guid session, string lease, int offset, string text, JobProgress? progress)
    {
        if (Held(session, lease) is not { } hold)
            return Refusal(session, lease, "update");
        text ??= string.Empty;
        var broken = offset < 0 ? $"offset: must be at least 0; was {offset}"
            : text.Length > MaxUpdateChars ? $"text: must be at most {MaxUpdateChars} characters per update; was {text.Length}"
            : progress is { Step: < 0 } or { Total: < 0 } ? "progress: step and total must be at least 0"
            : null;
        if (broken is not null)
            return await RefuseResultAsync(hold, broken, "update");
        if (hold.Request.Sink is { } sink)
            await sink.OnUpdateAsync(new ExecutionUpdate(hold.Request.Attempt, offset, text, progress, Silo));
        return MinerAnswer.Taken;
    }

    /// <inheritdoc />
    public async Task<MinerAnswer> CompleteAsync(Guid session, string lease, string outputJson, double concurrency)
    {
        if (Held(session, lease) is not { } hold)
            return Refusal(session, lease, "result");
        var descriptor = kinds.Get(hold.Request.Kind);
        IJobOutput output;
        try
        {
            output = (IJobOutput)ChannelJson.Read(outputJson ?? string.Empty, descriptor.OutputType);
        }
        catch (JsonException ex)
        {
            return await RefuseResultAsync(hold, $"output: is not the kind's output record in JSON{(ex.Path is { Length: > 1 } path ? $" (at {path})" : string.Empty)}");
        }

        if (descriptor.CheckOutput(hold.Request.Target, hold.Request.Input, output) is { } rule)
            return await RefuseResultAsync(hold, rule);
        // The pool's own clock, from the lease's sending to the result: the miner's claim of its speed is not taken.
        var elapsed = Stopwatch.GetElapsedTime(hold.Started);
        var shared = double.IsFinite(concurrency) ? Math.Clamp(concurrency, 1, _capabilities?.Slots ?? 1) : 1;
        End(lease);
        var result = new JobResult(output, elapsed, Silo, WorkUnits: descriptor.WorkUnits(output), Concurrency: shared);
        hold.Result.TrySetResult(result);
        // The worker's statistics, as a trusted silo's executor records them.
        var tokens = output is TextOutput text ? text.TokensGenerated : 0;
        _ = GrainFactory.GetGrain<IWorkerGrain>(Worker).RecordJobAsync(true, tokens, tokens > 0 ? result.UnitsPerSecond : 0).ContinueWith(static t => _ = t.Exception, TaskScheduler.Default);
        return MinerAnswer.Taken;
    }

    /// <inheritdoc />
    public async Task<MinerAnswer> FailAsync(Guid session, string lease, string reason, bool badInput, bool handedBack)
    {
        if (Held(session, lease) is not { } hold)
            return Refusal(session, lease, "failure");
        reason = string.IsNullOrWhiteSpace(reason) ? "no reason given" : reason.Length > 500 ? reason[..500] : reason;
        End(lease);
        if (handedBack)
        {
            if (hold.Request.Sink is { } sink)
                await sink.HandBackAsync(hold.Request.Attempt, Silo);
            hold.Result.TrySetException(new WorkHandedBackException(Silo));
        }
        else
        {
            // A miner's word that the input is bad is not final: an untrusted miner could fail others' jobs with it.
            // The attempt fails and the job tries elsewhere while attempts remain.
            hold.Result.TrySetException(new InvalidOperationException(badInput ? $"open miner {Worker} refused the input: {reason}" : $"open miner {Worker}: {reason}"));
            _ = GrainFactory.GetGrain<IWorkerGrain>(Worker).RecordJobAsync(false, 0, 0).ContinueWith(static t => _ = t.Exception, TaskScheduler.Default);
        }

        return MinerAnswer.Taken;
    }

    /// <inheritdoc />
    public Task<OpenMinerView> DescribeAsync() =>
        Task.FromResult(new OpenMinerView(Worker, _link is not null, _capabilities, _leases.Count, [.. _refusals], _link is null ? 0 : _storageBytes, _shardCalls.Count));

    /// <summary>Checks a registration against the pool's rules; returns the capabilities the pool records.</summary>
    /// <exception cref="JobValidationException">The first rule broken, naming the registration's field.</exception>
    private WorkerCapabilities Check(WorkerCapabilities claimed)
    {
        if (claimed.Device is not ("cpu" or "cuda"))
            throw new JobValidationException("register.device", $"must be 'cpu' or 'cuda'; was '{claimed.Device}'");
        if (claimed.Slots is < 1 or > OpenMiners.MaxSlots)
            throw new JobValidationException("register.slots", $"must be between 1 and {OpenMiners.MaxSlots}; was {claimed.Slots}");
        if (claimed.Cores is < 1 or > 4096)
            throw new JobValidationException("register.cores", $"must be between 1 and 4096; was {claimed.Cores}");
        if (claimed.MemoryMb is < 0 or > JobRequirements.MaxMemoryMb || claimed.GpuMemoryMb is < 0 or > JobRequirements.MaxMemoryMb)
            throw new JobValidationException("register.memory_mb", $"memory figures must be between 0 and {JobRequirements.MaxMemoryMb} MiB");
        if (claimed.GpuMemoryMb > 0 && claimed.Device != "cuda")
            throw new JobValidationException("register.gpu_memory_mb", "must be 0 on a 'cpu' miner");
        if (claimed.Models.Count > 64)
            throw new JobValidationException("register.models", $"must list at most 64 models; listed {claimed.Models.Count}");
        if (claimed.Models.FirstOrDefault(model => !models.Contains(model)) is { } unknown)
            throw new JobValidationException("register.models", $"model '{Short(unknown)}' is not one the pool serves; known: {string.Join(", ", models.Ids)}");
        var kindsRun = claimed.Kinds ?? [];
        if (kindsRun.Count is 0 or > 64)
            throw new JobValidationException("register.kinds", "must list between 1 and 64 job kinds");
        if (kindsRun.Where(kind => !kinds.TryGet(kind, out _)).Select(kind => kind.Name).FirstOrDefault() is { } unknownKind)
            throw new JobValidationException("register.kinds", $"kind '{Short(unknownKind)}' is not one the pool runs");
        if (claimed.Models.Count == 0 && kindsRun.Any(kind => kind == JobKind.TextGeneration || kind == JobKind.CodeGeneration))
            throw new JobValidationException("register.models", "must list at least one model for text or code generation");
        return claimed with { Models = [.. claimed.Models.Distinct(StringComparer.Ordinal)], Kinds = [.. kindsRun.Distinct()] };
    }

    private static string Short(string text) => text.Length > 64 ? text[..64] + "…" : text;

    /// <summary>The lease named, when this session holds it; null otherwise (the caller refuses and counts).</summary>
    private LeaseHold? Held(Guid session, string lease) =>
        session == _session && _link is not null && lease is not null && _leases.TryGetValue(lease, out var hold) && hold.Session == session ? hold : null;

    /// <summary>Refuses a message about a lease this connection does not hold; one it held and ended lately is refused quietly.</summary>
    private MinerAnswer Refusal(Guid session, string lease, string what)
    {
        if (session != _session || _link is null)
            return MinerAnswer.Refused("this connection was replaced or ended", close: true);
        if (lease is not null && _ended.Contains(lease))
            return MinerAnswer.Refused($"lease {lease} has ended; its {what} changes nothing");
        var reason = $"{(what == "update" ? "an" : "a")} {what} for lease '{Short(lease ?? string.Empty)}', which was never given to this miner";
        Count(reason);
        LogRefused(Worker, reason);
        // Claiming work on a job it was not given is cheating, not a race: a suspicion, as the reward rules say.
        _ = GrainFactory.GetGrain<IRewardLedgerGrain>(Worker).RecordSuspicionAsync(Guid.Empty, $"open miner sent {reason}");
        return Answer(reason);
    }

    /// <summary>The refusal of <paramref name="reason"/>; past <see cref="MaxRefusalsPerConnection"/> refusals it closes the connection, saying so.</summary>
    private MinerAnswer Answer(string reason) => _refusedThisConnection >= MaxRefusalsPerConnection
        ? MinerAnswer.Refused($"{MaxRefusalsPerConnection} messages of this connection were refused (the last: {reason}); it is closed", close: true)
        : MinerAnswer.Refused(reason);

    /// <summary>Refuses a result (or update) that broke the kind's rules: the attempt fails, the worker is suspected.</summary>
    private async Task<MinerAnswer> RefuseResultAsync(LeaseHold hold, string rule, string what = "result")
    {
        var reason = $"{what} of job {hold.Request.JobId} refused: {rule}";
        Count(reason);
        LogRefused(Worker, reason);
        End(hold.Id);
        await GrainFactory.GetGrain<IRewardLedgerGrain>(Worker).RecordSuspicionAsync(hold.Request.JobId, $"open miner's {reason}");
        hold.Result.TrySetException(new MinerResultRefusedException($"open miner {Worker}: {reason}"));
        _ = GrainFactory.GetGrain<IWorkerGrain>(Worker).RecordJobAsync(false, 0, 0).ContinueWith(static t => _ = t.Exception, TaskScheduler.Default);
        return Answer(reason);
    }

    private void Count(string reason)
    {
        _refusedThisConnection++;
        Remember(reason);
    }

    /// <summary>Keeps <paramref name="reason"/> among the latest refusals the view shows, without counting it against the current connection.</summary>
    private void Remember(string reason)
    {
        _refusals.Add(reason);
        if (_refusals.Count > 50)
            _refusals.RemoveAt(0);
    }

    /// <summary>Removes a lease; true when it was held.</summary>
    private bool End(string lease)
    {
        if (!_leases.Remove(lease))
            return false;
        if (_ended.Add(lease))
        {
            _endedOrder.Enqueue(lease);
            if (_endedOrder.Count > RememberedEndedLeases)
                _ended.Remove(_endedOrder.Dequeue());
        }

        return true;
    }

    /// <summary>Ends the current connection: its attempts fail (a lost channel is a lost lease), the miner leaves the directory, its worker goes offline.</summary>
    private async Task EndConnectionAsync(string reason, bool signOff = true)
    {
        var session = _session;
        _link = null;
        _session = Guid.Empty;
        foreach (var hold in _leases.Values.Where(h => h.Session == session).ToList())
        {
            End(hold.Id);
            hold.Result.TrySetException(new SiloUnavailableException($"open miner {Worker} lost its connection: {reason}"));
        }

        FailShardCalls(session, reason);
        LogDisconnected(Worker, reason);
        await RemoveStoreAsync($"the open miner's connection ended: {reason}");
        _storageBytes = 0;
        await GrainFactory.GetGrain<IOpenMinerDirectoryGrain>(IOpenMinerDirectoryGrain.Key).SetAsync(Worker, null);
        // Not awaited: a ban reaches this from the worker grain itself, which would wait for this call while it waits.
        if (signOff)
            _ = GrainFactory.GetGrain<IWorkerGrain>(Worker).SignOffAsync().ContinueWith(static t => _ = t.Exception, TaskScheduler.Default);
    }

    private async Task WriteDirectoryAsync()
    {
        await GrainFactory.GetGrain<IOpenMinerDirectoryGrain>(IOpenMinerDirectoryGrain.Key).SetAsync(Worker, _capabilities);
        _lastDirectoryWrite = Stopwatch.GetTimestamp();
    }

    private async Task WatchAsync()
    {
        if (_link is null)
        {
            if (_leases.Count == 0 && _shardCalls.Count == 0)
            {
                _watch?.Dispose();
                _watch = null;
                DeactivateOnIdle();
            }

            return;
        }

        if (Stopwatch.GetElapsedTime(_lastHeartbeat) > HeartbeatTimeout)
            await EndConnectionAsync($"no heartbeat from its gateway for {HeartbeatTimeout.TotalSeconds:0} s");
    }

    /// <summary>One attempt leased to the miner.</summary>
    private sealed class LeaseHold(string id, ExecutionRequest request, Guid session, long started)
    {
        public string Id { get; } = id;

        public ExecutionRequest Request { get; } = request;

        public Guid Session { get; } = session;

        public long Started { get; } = started;

        public TaskCompletionSource<JobResult> Result { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Open miner {Worker} connected from {Address}: serves {Models} with {Slots} slots, offers {StorageBytes} bytes of storage")]
    private partial void LogConnected(string worker, string address, string models, int slots, long storageBytes);

    [LoggerMessage(Level = LogLevel.Information, Message = "Open miner {Worker} signed off: no new work; {Running} attempts finish or are handed back")]
    private partial void LogSignedOff(string worker, int running);

    [LoggerMessage(Level = LogLevel.Information, Message = "Open miner {Worker} disconnected: {Reason}")]
    private partial void LogDisconnected(string worker, string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Open miner {Worker} leased job {JobId} attempt {Attempt}")]
    private partial void LogLeased(string worker, Guid jobId, int attempt);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Open miner {Worker}: refused {Reason}")]
    private partial void LogRefused(string worker, string reason);
}
