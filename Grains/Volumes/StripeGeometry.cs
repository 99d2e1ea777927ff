namespace PoolAI.Volumes;

/// <summary>How a write cuts a file into stripes and shards.</summary>
public static class StripeGeometry
{
    /// <summary>File bytes a full stripe carries: K × shard size.</summary>
    public static long StripeDataBytes(VolumeLayout layout, int shardBytes) => (long)layout.DataShards * shardBytes;

    /// <summary>Shard size of a stripe holding <paramref name="dataBytes"/> bytes: ⌈dataBytes / K⌉ (the last data shard zero-padded).</summary>
    public static int ShardBytesFor(VolumeLayout layout, int dataBytes) => (dataBytes + layout.DataShards - 1) / layout.DataShards;

    /// <summary>Bytes [<paramref name="shard"/> × S, …) of the stripe's data that data shard <paramref name="shard"/> holds (0 for parity and padding).</summary>
    public static int DataBytesIn(StripeRecord stripe, int shard) =>
        (int)Math.Clamp(stripe.DataBytes - ((long)shard * stripe.ShardBytes), 0, stripe.ShardBytes);
}
