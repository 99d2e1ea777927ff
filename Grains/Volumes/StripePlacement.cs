namespace PoolAI.Volumes;

/// <summary>
/// Chooses the stores of a stripe: N distinct stores, distinct hosts first (a host with several silos is one failure
/// domain; each open miner is its own), the emptiest first, rotated by stripe index so that one file's stripes spread
/// over every store. Only stores that take shards (<see cref="Targets"/>: alive and not draining) are ever chosen.
/// </summary>
public static class StripePlacement
{
    /// <summary>
    /// The stores new shards may go to, by id: alive and not draining (<see cref="StoreView.TakesShards"/>), less
    /// <paramref name="except"/>. Every placement — a write's grant, a rebuild, a scrub, a drain — chooses among these.
    /// </summary>
    public static List<StoreRegistration> Targets(IEnumerable<StoreView> stores, string? except = null) =>
        [.. stores.Where(s => s.TakesShards && s.StoreId != except).OrderBy(s => s.StoreId, StringComparer.Ordinal).Select(s => s.Registration)];

    /// <summary>The failure domain of a store: its host for trusted silos, the store itself for open miners.</summary>
    public static string DomainOf(StoreRegistration store) => store.Kind == StoreKind.Open ? "open/" + store.StoreId : store.Host;

    /// <summary>
    /// <paramref name="count"/> stores for stripe <paramref name="stripe"/> from <paramref name="stores"/> (live, best
    /// first), leaving out <paramref name="exclude"/>; fewer when there are not enough.
    /// </summary>
    public static List<StoreRegistration> Choose(IReadOnlyList<StoreRegistration> stores, int stripe, int count, IReadOnlyCollection<string>? exclude = null, IReadOnlyCollection<string>? usedDomains = null)
    {
        var candidates = stores.Where(s => exclude is null || !exclude.Contains(s.StoreId)).ToList();
        var chosen = new List<StoreRegistration>(count);
        if (candidates.Count == 0)
            return chosen;
        var domains = new HashSet<string>(usedDomains ?? [], StringComparer.Ordinal);
        var start = (int)((uint)stripe % (uint)candidates.Count);
        var rotated = candidates.Skip(start).Concat(candidates.Take(start)).ToList();
        foreach (var store in rotated)
        {
            if (chosen.Count == count)
                break;
            if (domains.Add(DomainOf(store)))
                chosen.Add(store);
        }

        foreach (var store in rotated)
        {
            if (chosen.Count == count)
                break;
            if (!chosen.Contains(store))
                chosen.Add(store);
        }

        return chosen;
    }
}
