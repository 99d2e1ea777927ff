namespace PoolAI.Tests.Volumes;

/// <summary>Shard buffers for the codec tests: random bytes, cut from larger arrays at odd offsets so nothing is aligned.</summary>
internal static class TestShards
{
    public static Memory<byte>[] Random(int count, int length, int seed)
    {
        var random = new Random(seed);
        var shards = new Memory<byte>[count];
        for (var i = 0; i < count; i++)
        {
            var array = new byte[length + 3 + i % 5];
            random.NextBytes(array);
            shards[i] = array.AsMemory(3, length);
        }

        return shards;
    }

    public static Memory<byte>[] Filled(int count, int length, byte value)
    {
        var shards = Random(count, length, 0);
        foreach (var shard in shards)
            shard.Span.Fill(value);
        return shards;
    }

    public static ReadOnlyMemory<byte>[] ReadOnly(IEnumerable<Memory<byte>> shards) => [.. shards.Select(s => (ReadOnlyMemory<byte>)s)];

    public static byte[][] Copy(IEnumerable<Memory<byte>> shards) => [.. shards.Select(s => s.ToArray())];

    /// <summary>Overwrites the shards not present with 0xEE so a missed write shows.</summary>
    public static void Erase(Memory<byte>[] shards, bool[] present)
    {
        for (var i = 0; i < shards.Length; i++)
            if (!present[i])
                shards[i].Span.Fill(0xEE);
    }

    /// <summary>Every subset of {0..n−1} with 1..most members, as presence flags (false = lost).</summary>
    public static IEnumerable<bool[]> Losses(int n, int most)
    {
        for (var mask = 1; mask < 1 << n; mask++)
            if (int.PopCount(mask) <= most)
                yield return [.. Enumerable.Range(0, n).Select(i => (mask & (1 << i)) == 0)];
    }

    /// <summary><paramref name="count"/> random patterns of 1..most losses among n shards.</summary>
    public static IEnumerable<bool[]> RandomLosses(int n, int most, int count, int seed)
    {
        var random = new Random(seed);
        for (var p = 0; p < count; p++)
        {
            var present = Enumerable.Repeat(true, n).ToArray();
            var lost = random.Next(1, most + 1);
            foreach (var i in Enumerable.Range(0, n).OrderBy(_ => random.Next()).Take(lost))
                present[i] = false;
            yield return present;
        }
    }
}
