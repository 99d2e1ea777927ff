using System.Globalization;

namespace PoolAI.Volumes;

/// <summary>Whether a store's shards of a volume have somewhere else to go.</summary>
public static class DrainRules
{
    /// <summary>
    /// Null when every stripe in <paramref name="held"/> (the stripes with a shard on <paramref name="store"/>) has a
    /// store among <paramref name="targets"/> (those that take shards, <paramref name="store"/> left out) that holds no
    /// other shard of it; otherwise what is missing, in words: the layout's rule, how many stores take shards, how many
    /// stripes have nowhere to go, and how many more live stores are needed.
    /// </summary>
    /// <param name="volume">The volume's name, for the message.</param>
    /// <param name="layout">Its layout: K + M shards per stripe, each on a distinct store.</param>
    /// <param name="store">The store to empty.</param>
    /// <param name="held">The stripes with a shard on <paramref name="store"/>.</param>
    /// <param name="targets">The other stores that take shards (<see cref="StripePlacement.Targets"/>).</param>
    public static string? Shortfall(string volume, VolumeLayout layout, string store, IReadOnlyCollection<StripeRecord> held, IReadOnlyCollection<StoreRegistration> targets)
    {
        var stuck = held.Count(stripe => !targets.Any(t => stripe.Shards.All(s => s.Store != t.StoreId)));
        if (stuck == 0)
            return null;
        var more = Math.Max(1, layout.TotalShards - targets.Count);
        var names = targets.Count == 0 ? "none" : string.Join(", ", targets.Select(t => t.StoreId));
        return string.Create(CultureInfo.InvariantCulture,
            $"volume '{volume}' ({layout}) keeps the {layout.TotalShards} shards of each stripe on {layout.TotalShards} distinct stores, but without {store} only {targets.Count} live store{(targets.Count == 1 ? "" : "s")} take{(targets.Count == 1 ? "s" : "")} shards ({names}): {stuck} of the {held.Count} stripes with a shard on {store} have no store to move it to; {more} more live store{(more == 1 ? " is" : "s are")} needed");
    }
}
