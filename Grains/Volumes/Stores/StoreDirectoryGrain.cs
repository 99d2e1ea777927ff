using Microsoft.Extensions.Logging;
using Orleans.Placement;
using Orleans.Storage;
using PoolAI.Placement;

namespace PoolAI.Volumes.Stores;

/// <summary>
/// The store directory (<see cref="IStoreDirectoryGrain"/>). Which stores exist, which are dead and which are draining
/// is kept in grain storage, so a new activation — a coordinator that restarted or failed over — still knows the stores
/// that died while it was away, and the rebuild of what they held goes on. Liveness is not stored: a trusted store is
/// alive while cluster membership has its silo active, an open miner's while its proxy keeps re-registering it; a store
/// that has not announced itself for <see cref="StaleAfter"/> and whose silo membership does not know (or that is an
/// open miner's) is dead. Every store re-announces itself every <see cref="StoreDirectory.RefreshInterval"/>, so a new
/// activation counts each stored store as seen when it starts.
/// </summary>
[CoordinatorFilter]
[Immovable(ImmovableKind.Rebalancer)]
public sealed partial class StoreDirectoryGrain(
    [PersistentState("storedirectory", PoolKeys.Storage)] IPersistentState<StoreDirectoryState> state,
    IClusterMembershipService membership,
    TimeProvider clock,
    VolumeKeyring keyring,
    ILogger<StoreDirectoryGrain> logger) : Grain, IStoreDirectoryGrain
{
    /// <summary>Silence after which a store that membership cannot vouch for is dead: three missed announcements.</summary>
    public static readonly TimeSpan StaleAfter = StoreDirectory.RefreshInterval * 3;

    private readonly Dictionary<string, Entry> _stores = new(StringComparer.Ordinal);
    private bool _unsaved;

    /// <inheritdoc />
    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        foreach (var (id, stored) in state.State.Stores)
            _stores[id] = new Entry(stored.Registration, now, stored.DeadSince, stored.Reason, stored.Draining);
        LogActivated(logger, _stores.Count, _stores.Values.Count(e => e.DeadSince is not null));
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public async Task RegisterAsync(StoreRegistration store)
    {
        if (string.IsNullOrWhiteSpace(store.StoreId) || store.StoreId.Length > 128)
            throw new Jobs.JobValidationException("store", $"a store id is 1 to 128 characters (got '{store.StoreId}')");
        var known = _stores.TryGetValue(store.StoreId, out var entry) ? entry : null;
        _stores[store.StoreId] = new Entry(store, clock.GetUtcNow(), null, null, known?.Draining);
        // A refresh of a known live store changes nothing stored (liveness is not stored).
        if (known is null || known.DeadSince is not null || known.Registration != store || _unsaved)
            await SaveAsync();
    }

    /// <inheritdoc />
    public Task<byte[]> GetTransportKeyAsync() => Task.FromResult(keyring.ShardTransportKey);

    /// <inheritdoc />
    public async Task UnregisterAsync(string storeId, string reason)
    {
        if (_stores.TryGetValue(storeId, out var entry) && entry.DeadSince is null)
        {
            _stores[storeId] = entry with { DeadSince = clock.GetUtcNow(), Reason = reason };
            await SaveAsync();
        }
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<StoreView>> GetStoresAsync()
    {
        var snapshot = membership.CurrentSnapshot;
        var now = clock.GetUtcNow();
        var died = false;
        var views = new List<StoreView>(_stores.Count);
        foreach (var (id, entry) in _stores.ToList())
        {
            var current = entry;
            if (current.DeadSince is null && DeathOf(current, snapshot, now) is { } reason)
            {
                _stores[id] = current = current with { DeadSince = now, Reason = reason };
                died = true;
            }

            views.Add(View(current));
        }

        if (died || _unsaved)
            await SaveAsync();
        return views.OrderBy(v => v.StoreId, StringComparer.Ordinal).ToList();
    }

    /// <inheritdoc />
    public async Task<StoreView?> SetDrainingAsync(string storeId, string? reason)
    {
        if (!_stores.TryGetValue(storeId, out var entry))
            return null;
        if (entry.Draining != reason)
        {
            _stores[storeId] = entry with { Draining = reason };
            await SaveAsync();
        }

        // Through GetStoresAsync, so the view also says whether its silo has died since.
        return (await GetStoresAsync()).FirstOrDefault(v => v.StoreId == storeId);
    }

    /// <summary>Why a store the directory holds alive is dead now, or null while it is alive.</summary>
    private static string? DeathOf(Entry entry, ClusterMembershipSnapshot snapshot, DateTimeOffset now)
    {
        var silent = now - entry.LastSeen >= StaleAfter;
        if (entry.Registration.Silo is { } silo)
        {
            var status = snapshot.GetSiloStatus(silo);
            if (status is SiloStatus.Dead or SiloStatus.ShuttingDown or SiloStatus.Stopping)
                return $"silo {silo} is {status.ToString().ToLowerInvariant()}";
            // Membership forgets silos (a restarted cluster knows none of the old ones): then silence decides.
            if (status == SiloStatus.None && silent)
                return $"silo {silo} is not in the cluster and its store has not announced itself since {entry.LastSeen:u}";
            return null;
        }

        return silent ? $"not announced since {entry.LastSeen:u}" : null;
    }

    /// <summary>
    /// Stores the directory (without liveness). A write that loses to another activation's (a duplicate after a silo
    /// failure) reads theirs and writes the union, this activation's entries winning; a failed write is retried at the
    /// next change or read, and the directory keeps serving from memory meanwhile.
    /// </summary>
    private async Task SaveAsync()
    {
        for (var attempt = 0; attempt < 2; attempt++)
        {
            try
            {
                foreach (var (id, entry) in _stores)
                    state.State.Stores[id] = new StoreDirectoryEntry(entry.Registration, entry.DeadSince, entry.Reason, entry.Draining);
                await state.WriteStateAsync();
                _unsaved = false;
                return;
            }
            catch (InconsistentStateException) when (attempt == 0)
            {
                await state.ReadStateAsync();
                var now = clock.GetUtcNow();
                foreach (var (id, stored) in state.State.Stores)
                    _stores.TryAdd(id, new Entry(stored.Registration, now, stored.DeadSince, stored.Reason, stored.Draining));
            }
            catch (Exception e)
            {
                _unsaved = true;
                LogSaveFailed(logger, e.Message);
                return;
            }
        }
    }

    private static StoreView View(Entry entry) =>
        new(entry.Registration, entry.DeadSince is null, entry.LastSeen, entry.DeadSince, entry.Reason, entry.Draining);

    [LoggerMessage(Level = LogLevel.Information, Message = "Store directory activated: {Stores} stores stored, {Dead} of them dead")]
    private static partial void LogActivated(ILogger logger, int stores, int dead);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The store directory could not be saved (kept in memory; retrying at the next change): {Reason}")]
    private static partial void LogSaveFailed(ILogger logger, string reason);

    private sealed record Entry(StoreRegistration Registration, DateTimeOffset LastSeen, DateTimeOffset? DeadSince, string? Reason, string? Draining = null);
}

/// <summary>What the store directory keeps in grain storage: every store ever registered, by id (liveness is not stored).</summary>
[GenerateSerializer, Alias("poolai.StoreDirectoryState")]
public sealed class StoreDirectoryState
{
    /// <summary>Stores by id.</summary>
    [Id(0)]
    public Dictionary<string, StoreDirectoryEntry> Stores { get; set; } = new(StringComparer.Ordinal);
}

/// <summary>One stored store.</summary>
/// <param name="Registration">What it announced last.</param>
/// <param name="DeadSince">When it was found dead; null while alive.</param>
/// <param name="Reason">Why it is dead.</param>
/// <param name="Draining">Why it is being emptied; null when it is not.</param>
[GenerateSerializer, Immutable, Alias("poolai.StoreDirectoryEntry")]
public sealed record StoreDirectoryEntry(
    [property: Id(0)] StoreRegistration Registration,
    [property: Id(1)] DateTimeOffset? DeadSince,
    [property: Id(2)] string? Reason,
    [property: Id(3)] string? Draining);
