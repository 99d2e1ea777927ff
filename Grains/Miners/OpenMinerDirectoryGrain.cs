using Orleans.Placement;
using PoolAI.Placement;
using PoolAI.Workers;

namespace PoolAI.Miners;

/// <summary>
/// The connected open miners, in memory: connections are live things, so after a coordinator restart the directory
/// fills again as each miner's proxy re-asserts its entry (<see cref="OpenMinerGrain"/> does so every
/// <see cref="OpenMinerGrain.DirectoryRefresh"/>) or the miner reconnects.
/// </summary>
[CoordinatorFilter]
[Immovable(ImmovableKind.Rebalancer)] // in memory: a migration would empty it until every proxy re-asserts its entry
public sealed class OpenMinerDirectoryGrain : Grain, IOpenMinerDirectoryGrain
{
    private static readonly IReadOnlyDictionary<string, WorkerCapabilities> Nothing = new Dictionary<string, WorkerCapabilities>();
    private readonly Dictionary<string, WorkerCapabilities> _miners = new(StringComparer.Ordinal);
    private long _version = DateTime.UtcNow.Ticks; // a new activation never repeats an old one's version
    private IReadOnlyDictionary<string, WorkerCapabilities>? _snapshot;

    /// <inheritdoc />
    public Task SetAsync(string worker, WorkerCapabilities? capabilities)
    {
        var changed = capabilities is null
            ? _miners.Remove(worker)
            : !_miners.TryGetValue(worker, out var known) || !Same(known, capabilities);
        if (capabilities is not null)
            _miners[worker] = capabilities;
        if (changed)
        {
            _version++;
            _snapshot = null;
        }

        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task<OpenMinerList> GetAsync(long knownVersion) => Task.FromResult(knownVersion == _version
        ? new OpenMinerList(_version, false, Nothing)
        : new OpenMinerList(_version, true, _snapshot ??= new Dictionary<string, WorkerCapabilities>(_miners, StringComparer.Ordinal)));

    private static bool Same(WorkerCapabilities a, WorkerCapabilities b) =>
        a.Device == b.Device && a.Cores == b.Cores && a.MemoryMb == b.MemoryMb && a.GpuMemoryMb == b.GpuMemoryMb && a.Slots == b.Slots
        && a.Models.SequenceEqual(b.Models) && (a.Kinds ?? []).SequenceEqual(b.Kinds ?? []);
}
