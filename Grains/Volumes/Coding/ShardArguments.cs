namespace PoolAI.Volumes.Coding;

/// <summary>The argument checks <see cref="ReedSolomon"/> and <see cref="ReedSolomonReference"/> share.</summary>
internal static class ShardArguments
{
    /// <summary>Throws unless 1 ≤ K, 1 ≤ M and K + M ≤ 255.</summary>
    public static void CheckCode(int dataShards, int parityShards)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(dataShards, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(parityShards, 1);
        if (dataShards + parityShards > VolumeLayout.MaxShards)
            throw new ArgumentOutOfRangeException(nameof(parityShards), parityShards,
                $"dataShards + parityShards must be at most {VolumeLayout.MaxShards} (got {dataShards} + {parityShards})");
    }

    /// <summary>Throws unless there are K data and M parity buffers of one length; returns that length in bytes.</summary>
    public static int CheckEncode(ReadOnlySpan<ReadOnlyMemory<byte>> data, ReadOnlySpan<Memory<byte>> parity, int dataShards, int parityShards)
    {
        if (data.Length != dataShards)
            throw new ArgumentException($"expected {dataShards} data shards, got {data.Length}", nameof(data));
        if (parity.Length != parityShards)
            throw new ArgumentException($"expected {parityShards} parity shards, got {parity.Length}", nameof(parity));
        var length = data[0].Length;
        foreach (var shard in data)
            if (shard.Length != length)
                throw new ArgumentException($"every shard must have the same length: data shards have {length} and {shard.Length} bytes", nameof(data));
        foreach (var shard in parity)
            if (shard.Length != length)
                throw new ArgumentException($"every shard must have the same length: data shards have {length} bytes, a parity shard {shard.Length}", nameof(parity));
        return length;
    }

    /// <summary>
    /// Throws unless there are K + M shards of one length and K + M presence flags; returns how many are present.
    /// </summary>
    /// <exception cref="InvalidOperationException">Fewer than K shards are present.</exception>
    public static int CheckReconstruct(ReadOnlySpan<Memory<byte>> shards, ReadOnlySpan<bool> present, int dataShards, int totalShards)
    {
        if (shards.Length != totalShards)
            throw new ArgumentException($"expected {totalShards} shards, got {shards.Length}", nameof(shards));
        if (present.Length != totalShards)
            throw new ArgumentException($"expected {totalShards} presence flags, got {present.Length}", nameof(present));
        var length = shards[0].Length;
        foreach (var shard in shards)
            if (shard.Length != length)
                throw new ArgumentException($"every shard must have the same length: got {length} and {shard.Length} bytes", nameof(shards));
        var count = 0;
        foreach (var flag in present)
            count += flag ? 1 : 0;
        if (count < dataShards)
            throw new InvalidOperationException($"{count} of {totalShards} shards present; {dataShards} needed to reconstruct");
        return count;
    }
}
