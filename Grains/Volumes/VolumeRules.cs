using PoolAI.Jobs;

namespace PoolAI.Volumes;

/// <summary>The rules a volume checks before it records anything.</summary>
public static class VolumeRules
{
    /// <summary>Smallest shard size a volume may be created with, bytes.</summary>
    public const int MinShardBytes = 4 << 10;

    /// <summary>Largest shard size a volume may be created with, bytes.</summary>
    public const int MaxShardBytes = ShardIds.MaxShardBytes;

    /// <summary>Checks a new volume's settings against the live stores; returns the layout and shard size.</summary>
    /// <exception cref="JobValidationException">Field <c>layout</c>, <c>quota</c> or <c>shard_bytes</c>.</exception>
    public static (VolumeLayout Layout, int ShardBytes) CheckSpec(VolumeSpec spec, int liveStores)
    {
        var layout = VolumeLayout.Parse(spec.Layout);
        if (spec.WriteQuorum != 0 && (spec.WriteQuorum < layout.DataShards || spec.WriteQuorum > layout.TotalShards))
            throw new JobValidationException("write_quorum", $"must be 0 (every shard) or {layout.DataShards} to {layout.TotalShards} shards of each stripe for {layout} (got {spec.WriteQuorum}): fewer than {layout.DataShards} could not be read back");
        if (spec.QuotaBytes < 0)
            throw new JobValidationException("quota", $"must be 0 (none) or a positive number of bytes (got {spec.QuotaBytes})");
        var shardBytes = spec.ShardBytes == 0 ? VolumeView.DefaultShardBytes : spec.ShardBytes;
        if (shardBytes is < MinShardBytes or > MaxShardBytes)
            throw new JobValidationException("shard_bytes", $"must be {MinShardBytes} to {MaxShardBytes} bytes (got {shardBytes})");
        CheckStores(layout, liveStores);
        return (layout, shardBytes);
    }

    /// <summary>The layout needs a store per shard of a stripe (per shard it must store, with a write quorum of <paramref name="shardsToStore"/>).</summary>
    /// <exception cref="JobValidationException">Field <c>layout</c>: fewer live stores than shards.</exception>
    public static void CheckStores(VolumeLayout layout, int liveStores, int shardsToStore = 0)
    {
        var needed = shardsToStore > 0 ? shardsToStore : layout.TotalShards;
        if (needed > liveStores)
            throw new JobValidationException("layout", needed == layout.TotalShards
                ? $"{layout} puts {layout.TotalShards} shards of each stripe on distinct stores, but the pool has {liveStores} live store{(liveStores == 1 ? "" : "s")}; start more miners or choose a smaller layout"
                : $"{layout} with write quorum {needed} stores at least {needed} shards of each stripe on distinct stores, but the pool has {liveStores} live store{(liveStores == 1 ? "" : "s")}; start more miners");
    }

    /// <summary>The file's new size fits the quota, counting the version it replaces as freed.</summary>
    /// <exception cref="JobValidationException">Field <c>quota</c>.</exception>
    public static void CheckQuota(VolumeView volume, long newBytes, long replacedBytes)
    {
        if (volume.QuotaBytes > 0 && volume.UsedBytes - replacedBytes + newBytes > volume.QuotaBytes)
            throw new JobValidationException("quota", $"volume '{volume.Name}' holds {volume.UsedBytes} of its {volume.QuotaBytes} bytes; {newBytes} more bytes do not fit");
    }

    /// <summary>
    /// A write's stripes are complete and consistent with the layout: stripes 0…n−1 in order, K + M shard records each,
    /// at least <paramref name="shardsToStore"/> of them stored (0: all) and on distinct stores, sizes adding up to the length.
    /// </summary>
    /// <exception cref="JobValidationException">Field <c>stripes</c> or <c>length</c>, naming the stripe.</exception>
    public static void CheckCommit(VolumeLayout layout, int volumeShardBytes, FileCommit commit, int shardsToStore = 0)
    {
        var needed = shardsToStore > 0 ? shardsToStore : layout.TotalShards;
        if (commit.Length < 0)
            throw new JobValidationException("length", $"must be ≥ 0 (got {commit.Length})");
        long total = 0;
        for (var i = 0; i < commit.Stripes.Count; i++)
        {
            var stripe = commit.Stripes[i];
            if (stripe.Index != i)
                throw new JobValidationException("stripes", $"stripe {i} is numbered {stripe.Index}");
            if (stripe.Shards.Count != layout.TotalShards)
                throw new JobValidationException("stripes", $"stripe {i} has {stripe.Shards.Count} shards; {layout} needs {layout.TotalShards}");
            var stored = stripe.Shards.Where(s => !s.IsMissing).ToList();
            if (stored.Count < needed)
                throw new JobValidationException("stripes", $"stripe {i} has {stored.Count} stored shards; the write quorum is {needed}");
            if (stored.Select(s => s.Store).Distinct(StringComparer.Ordinal).Count() != stored.Count)
                throw new JobValidationException("stripes", $"stripe {i} puts two shards on one store");
            if (stripe.DataBytes < 1 || stripe.ShardBytes > volumeShardBytes || stripe.ShardBytes != StripeGeometry.ShardBytesFor(layout, stripe.DataBytes))
                throw new JobValidationException("stripes", $"stripe {i}: {stripe.DataBytes} data bytes in shards of {stripe.ShardBytes} does not fit {layout} with {volumeShardBytes}-byte shards");
            if (stripe.Shards.Any(s => s.Checksum.Length != 16))
                throw new JobValidationException("stripes", $"stripe {i}: every shard needs its 16-byte XxHash128");
            total += stripe.DataBytes;
        }

        if (total != commit.Length)
            throw new JobValidationException("length", $"the stripes hold {total} bytes, not {commit.Length}");
        if (commit.Sha256.Length is not (0 or 32))
            throw new JobValidationException("sha256", $"must be 32 bytes (got {commit.Sha256.Length})");
    }

    /// <summary>Counts stripes healthy (every shard on a live store), degraded (at least K) and lost.</summary>
    public static (long Healthy, long Degraded, long Lost) Health(VolumeLayout layout, IEnumerable<StripeRecord> stripes, Func<string, bool> alive)
    {
        long healthy = 0, degraded = 0, lost = 0;
        foreach (var stripe in stripes)
        {
            var live = stripe.Shards.Count(s => alive(s.Store));
            if (live == stripe.Shards.Count)
                healthy++;
            else if (live >= layout.DataShards)
                degraded++;
            else
                lost++;
        }

        return (healthy, degraded, lost);
    }
}
