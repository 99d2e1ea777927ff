using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using PoolAI.Hosting;
using PoolAI.Workers;

namespace PoolAI.Placement;

/// <summary>
/// Which serving silos may get new work, as seen by the silo that places it. A silo is unavailable while its worker is
/// on the <see cref="IWorkerStatusBoardGrain"/> (paused, maintenance, banned, offline) or while it is suspected because
/// a job lease it held expired (see <see cref="Suspect"/>). Both <see cref="Jobs.ServingCapacity"/> and the
/// <see cref="Execution.RunsKindFilterDirector"/> ask it, so the queue never counts, and placement never picks, a silo
/// that should not get work. It also keeps the models each worker serves now (<see cref="ServedModelsOf"/>), which
/// <see cref="SiloMetadataLookup"/> puts in place of the list a silo started with. On coordinator silos <see cref="Participate"/> keeps the board copy fresh every
/// <see cref="WorkerStatusBoard.RefreshInterval"/>.
/// </summary>
public sealed partial class WorkerAvailability(IGrainFactory grains, TimeProvider time, ILogger<WorkerAvailability> logger) : ILifecycleParticipant<ISiloLifecycle>
{
    /// <summary>How long a silo whose lease expired is kept out of placement, unless it renews a lease or leaves the cluster first.</summary>
    public static readonly TimeSpan SuspicionTime = TimeSpan.FromSeconds(30);

    private readonly ConcurrentDictionary<string, DateTimeOffset> _suspects = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stopping = new();
    private readonly SemaphoreSlim _reading = new(1, 1);
    private volatile IReadOnlyDictionary<string, WorkerStatus> _unavailable = new Dictionary<string, WorkerStatus>();
    private volatile IReadOnlyList<OpenMinerUnit> _openMiners = [];
    private volatile IReadOnlyDictionary<string, string> _models = new Dictionary<string, string>();
    private long _openMinersVersion = -1;
    private Task? _refresh;
    private long _version;

    /// <summary>
    /// Changes with every change of what <see cref="IsAvailable(string, IReadOnlyDictionary{string, string})"/> answers, except a suspicion running out (see
    /// <see cref="SuspectedUntil"/>): callers that cache availability compare it.
    /// </summary>
    public long Version => Interlocked.Read(ref _version);

    /// <summary>When the earliest suspicion now held runs out (<see cref="DateTimeOffset.MaxValue"/> with none).</summary>
    public DateTimeOffset SuspectedUntil => _suspects.IsEmpty ? DateTimeOffset.MaxValue : _suspects.Values.Min();

    /// <summary>
    /// The open miners connected now (see <see cref="Miners.IOpenMinerDirectoryGrain"/>), each with silo-style metadata
    /// made from its registration, as of the last refresh; a change changes <see cref="Version"/>.
    /// </summary>
    public IReadOnlyList<OpenMinerUnit> OpenMiners => _openMiners;

    /// <summary>
    /// The models <paramref name="worker"/> serves now as its latest registration told the board, comma-separated as in
    /// <see cref="PoolKeys.ModelsMetadata"/>; null when the board has no entry. A change changes <see cref="Version"/>.
    /// </summary>
    public string? ServedModelsOf(string worker) => _models.GetValueOrDefault(worker);

    /// <summary>True when the silo with this address and metadata may get new work.</summary>
    public bool IsAvailable(SiloAddress silo, IReadOnlyDictionary<string, string> metadata) => IsAvailable(silo.ToString(), metadata);

    /// <summary>True when the place written <paramref name="silo"/> (a silo address, or an open miner's <c>open/…</c>) with this metadata may get new work.</summary>
    public bool IsAvailable(string silo, IReadOnlyDictionary<string, string> metadata)
    {
        if (metadata.TryGetValue(PoolKeys.WorkerMetadata, out var worker) && _unavailable.ContainsKey(worker))
            return false;
        if (_suspects.IsEmpty || !_suspects.TryGetValue(silo, out var until))
            return true;
        if (time.GetUtcNow() < until)
            return false;
        if (_suspects.TryRemove(silo, out _))
            Interlocked.Increment(ref _version);
        return true;
    }

    /// <summary>A lease held by <paramref name="silo"/> (as <see cref="SiloAddress.ToString"/> writes it) expired: keep it out of placement for <see cref="SuspicionTime"/>.</summary>
    public void Suspect(string silo)
    {
        _suspects[silo] = time.GetUtcNow() + SuspicionTime;
        Interlocked.Increment(ref _version);
    }

    /// <summary><paramref name="silo"/> renewed a lease, so it is alive and reachable.</summary>
    public void Clear(string silo)
    {
        if (!_suspects.IsEmpty && _suspects.TryRemove(silo, out _))
            Interlocked.Increment(ref _version);
    }

    /// <summary>
    /// Reads the status board once. Reads run one at a time, so a read that began earlier (the periodic refresh, say)
    /// can never overwrite the copy of one that began after a change (a worker's registration, which asks for a read).
    /// </summary>
    public async Task RefreshAsync()
    {
        await _reading.WaitAsync();
        try
        {
            var board = await grains.GetGrain<IWorkerStatusBoardGrain>(IWorkerStatusBoardGrain.Key).GetUnavailableAsync();
            var changed = board.Count != _unavailable.Count || board.Any(entry => !_unavailable.TryGetValue(entry.Key, out var known) || !Equals(known, entry.Value));
            _unavailable = board;
            var models = (await grains.GetGrain<IWorkerStatusBoardGrain>(IWorkerStatusBoardGrain.Key).GetModelsAsync())
                .ToDictionary(entry => entry.Key, entry => string.Join(',', entry.Value), StringComparer.Ordinal);
            if (models.Count != _models.Count || models.Any(entry => !_models.TryGetValue(entry.Key, out var known) || known != entry.Value))
            {
                _models = models;
                changed = true;
            }

            var open = await grains.GetGrain<Miners.IOpenMinerDirectoryGrain>(Miners.IOpenMinerDirectoryGrain.Key).GetAsync(_openMinersVersion);
            if (open.Changed)
            {
                _openMiners = [.. open.Miners.OrderBy(m => m.Key, StringComparer.Ordinal).Select(m => OpenMinerUnit.Of(m.Key, m.Value))];
                _openMinersVersion = open.Version;
                changed = true;
            }
            if (changed)
                Interlocked.Increment(ref _version); // after the change: a reader that saw the new version sees the new board
        }
        finally
        {
            _reading.Release();
        }
    }

    /// <inheritdoc />
    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(WorkerAvailability), ServiceLifecycleStage.Active, Start, StopAsync);

    private Task Start(CancellationToken cancellationToken)
    {
        _refresh = RefreshLoopAsync(_stopping.Token);
        return Task.CompletedTask;
    }

    private async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        if (_refresh is not null)
            await _refresh.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    private Task RefreshLoopAsync(CancellationToken cancellationToken)
    {
        var failing = false;
        return PeriodicWork.RunAsync(
            WorkerStatusBoard.RefreshInterval,
            runAtStart: true,
            async () =>
            {
                await RefreshAsync();
                failing = false;
            },
            ex =>
            {
                if (!failing)
                    LogRefreshFailed(ex);
                failing = true;
            },
            cancellationToken,
            time);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not read the worker status board or the open miners; placement uses the last copy until it can")]
    private partial void LogRefreshFailed(Exception exception);
}

/// <summary>An open miner as a unit of serving capacity: where its attempts run (<c>open/…</c>) and silo-style metadata made from its registration.</summary>
/// <param name="Silo">The place its attempts run, as placements name it (<see cref="Miners.OpenMiners.SiloOf"/>).</param>
/// <param name="Metadata">Its registration in the keys of <see cref="PoolKeys"/>, role <c>open-miner</c>.</param>
public sealed record OpenMinerUnit(string Silo, IReadOnlyDictionary<string, string> Metadata)
{
    /// <summary>Role written in an open miner's metadata.</summary>
    public const string Role = "open-miner";

    /// <summary>The unit of <paramref name="worker"/> with <paramref name="capabilities"/>.</summary>
    public static OpenMinerUnit Of(string worker, WorkerCapabilities capabilities)
    {
        var invariant = System.Globalization.CultureInfo.InvariantCulture;
        return new(Miners.OpenMiners.SiloOf(worker), new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [PoolKeys.RoleMetadata] = Role,
            [PoolKeys.WorkerMetadata] = worker,
            [PoolKeys.ModelsMetadata] = string.Join(',', capabilities.Models),
            [PoolKeys.KindsMetadata] = string.Join(',', (capabilities.Kinds ?? []).Select(k => k.Name)),
            [PoolKeys.SlotsMetadata] = capabilities.Slots.ToString(invariant),
            [PoolKeys.DeviceMetadata] = capabilities.Device,
            [PoolKeys.CoresMetadata] = capabilities.Cores.ToString(invariant),
            [PoolKeys.MemoryMetadata] = capabilities.MemoryMb.ToString(invariant),
            [PoolKeys.GpuMemoryMetadata] = capabilities.GpuMemoryMb.ToString(invariant),
        });
    }
}
