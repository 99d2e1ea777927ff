namespace PoolAI.Volumes.Coding;

/// <summary>Which of up to 256 shards are present, and whether only data is wanted: the key of a cached <see cref="DecodePlan"/>.</summary>
internal readonly record struct ErasurePattern(ulong Present0, ulong Present1, ulong Present2, ulong Present3, bool DataOnly)
{
    /// <summary>The pattern of <paramref name="present"/> (at most 256 flags).</summary>
    public static ErasurePattern Of(ReadOnlySpan<bool> present, bool dataOnly)
    {
        Span<ulong> bits = stackalloc ulong[4];
        for (var i = 0; i < present.Length; i++)
            if (present[i])
                bits[i >> 6] |= 1UL << (i & 63);
        return new ErasurePattern(bits[0], bits[1], bits[2], bits[3], dataOnly);
    }
}
