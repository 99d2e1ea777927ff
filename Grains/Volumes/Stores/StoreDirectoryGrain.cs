using Orleans.Placement;
using PoolAI.Placement;

namespace PoolAI.Volumes.Stores;

/// <summary>
/// The store directory (<see cref="IStoreDirectoryGrain"/>), in memory: stores re-announce themselves every
/// <see cref="StoreDirectory.RefreshInterval"/>, so a new activation knows them all within that time. A trusted store
/// is alive while cluster membership has its silo active; an open miner's while it is registered. A draining store
/// keeps its mark when it re-announces itself.
/// </summary>
[CoordinatorFilter]
[Immovable(ImmovableKind.Rebalancer)]
public sealed class StoreDirectoryGrain(IClusterMembershipService membership, TimeProvider clock) : Grain, IStoreDirectoryGrain
{
    private readonly Dictionary<string, Entry> _stores = new(StringComparer.Ordinal);

    /// <inheritdoc />
    public Task RegisterAsync(StoreRegistration store)
    {
        if (string.IsNullOrWhiteSpace(store.StoreId) || store.StoreId.Length > 128)
            throw new Jobs.JobValidationException("store", $"a store id is 1 to 128 characters (got '{store.StoreId}')");
        var draining = _stores.TryGetValue(store.StoreId, out var known) ? known.Draining : null;
        _stores[store.StoreId] = new Entry(store, clock.GetUtcNow(), null, null, draining);
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task UnregisterAsync(string storeId, string reason)
    {
        if (_stores.TryGetValue(storeId, out var entry) && entry.DeadSince is null)
            _stores[storeId] = entry with { DeadSince = clock.GetUtcNow(), Reason = reason };
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<StoreView>> GetStoresAsync()
    {
        var snapshot = membership.CurrentSnapshot;
        var now = clock.GetUtcNow();
        var views = new List<StoreView>(_stores.Count);
        foreach (var (id, entry) in _stores.ToList())
        {
            var current = entry;
            if (current.DeadSince is null && current.Registration.Silo is { } silo)
            {
                var status = snapshot.GetSiloStatus(silo);
                if (status is SiloStatus.Dead or SiloStatus.ShuttingDown or SiloStatus.Stopping)
                    _stores[id] = current = current with { DeadSince = now, Reason = $"silo {silo} is {status.ToString().ToLowerInvariant()}" };
            }

            views.Add(View(current));
        }

        return Task.FromResult<IReadOnlyList<StoreView>>(views.OrderBy(v => v.StoreId, StringComparer.Ordinal).ToList());
    }

    /// <inheritdoc />
    public async Task<StoreView?> SetDrainingAsync(string storeId, string? reason)
    {
        if (!_stores.TryGetValue(storeId, out var entry))
            return null;
        _stores[storeId] = entry with { Draining = reason };
        // Through GetStoresAsync, so the view also says whether its silo has died since.
        return (await GetStoresAsync()).FirstOrDefault(v => v.StoreId == storeId);
    }

    private static StoreView View(Entry entry) =>
        new(entry.Registration, entry.DeadSince is null, entry.LastSeen, entry.DeadSince, entry.Reason, entry.Draining);

    private sealed record Entry(StoreRegistration Registration, DateTimeOffset LastSeen, DateTimeOffset? DeadSince, string? Reason, string? Draining = null);
}
