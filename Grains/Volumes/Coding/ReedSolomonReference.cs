namespace PoolAI.Volumes.Coding;

/// <summary>
/// The obviously-correct Reed–Solomon codec the tests hold <see cref="ReedSolomon"/> to: the same code (systematic
/// Cauchy matrix over GF(2^8) with polynomial 0x11D, as ISA-L's <c>gf_gen_cauchy1_matrix</c>), one byte at a time with
/// log/exp table multiplication and no SIMD. Reconstruct solves for the data from the first K present shards and then
/// encodes the missing parity from the data, a different route from <see cref="ReedSolomon"/>'s single decode matrix.
/// Slow (tens of MB/s); for tests and checks only. Thread-safe.
/// </summary>
public sealed class ReedSolomonReference
{
    private readonly byte[] _matrix;

    /// <summary>A code of <paramref name="dataShards"/> data shards (K) and <paramref name="parityShards"/> parity shards (M).</summary>
    /// <exception cref="ArgumentOutOfRangeException">K &lt; 1, M &lt; 1 or K + M &gt; 255 (names the parameter).</exception>
    public ReedSolomonReference(int dataShards, int parityShards)
    {
        ShardArguments.CheckCode(dataShards, parityShards);
        DataShards = dataShards;
        ParityShards = parityShards;
        _matrix = CodingMatrix.Cauchy(dataShards, parityShards);
    }

    /// <summary>K: shards holding the data.</summary>
    public int DataShards { get; }

    /// <summary>M: parity shards; any M shards can be lost.</summary>
    public int ParityShards { get; }

    /// <summary>K + M.</summary>
    public int TotalShards => DataShards + ParityShards;

    /// <summary>Writes the M parity shards of K data shards; every buffer has the same length (any, 0 included).</summary>
    /// <exception cref="ArgumentException">Not K data and M parity buffers, or their lengths differ (names the parameter).</exception>
    public void Encode(ReadOnlySpan<ReadOnlyMemory<byte>> data, ReadOnlySpan<Memory<byte>> parity)
    {
        var length = ShardArguments.CheckEncode(data, parity, DataShards, ParityShards);
        for (var r = 0; r < ParityShards; r++)
        {
            var output = parity[r].Span[..length];
            output.Clear();
            for (var j = 0; j < DataShards; j++)
                MultiplyAdd(_matrix[((DataShards + r) * DataShards) + j], data[j].Span, output);
        }
    }

    /// <summary>
    /// Fills the missing shards (<paramref name="present"/>[i] false) of K + M same-length shards from any K present ones;
    /// only the missing data shards when <paramref name="dataOnly"/>.
    /// </summary>
    /// <exception cref="ArgumentException">Not K + M shards and flags, or shard lengths differ (names the parameter).</exception>
    /// <exception cref="InvalidOperationException">Fewer than K shards are present.</exception>
    public void Reconstruct(ReadOnlySpan<Memory<byte>> shards, ReadOnlySpan<bool> present, bool dataOnly = false)
    {
        ShardArguments.CheckReconstruct(shards, present, DataShards, TotalShards);
        var k = DataShards;
        var rows = new int[k];
        for (int i = 0, found = 0; found < k; i++)
            if (present[i])
                rows[found++] = i;
        var survivors = new byte[k * k];
        for (var r = 0; r < k; r++)
            _matrix.AsSpan(rows[r] * k, k).CopyTo(survivors.AsSpan(r * k));
        var decode = CodingMatrix.Invert(survivors, k);

        for (var d = 0; d < k; d++)
        {
            if (present[d])
                continue;
            var output = shards[d].Span;
            output.Clear();
            for (var j = 0; j < k; j++)
                MultiplyAdd(decode[(d * k) + j], shards[rows[j]].Span, output);
        }

        if (dataOnly)
            return;
        for (var p = 0; p < ParityShards; p++)
        {
            if (present[k + p])
                continue;
            var output = shards[k + p].Span;
            output.Clear();
            for (var j = 0; j < k; j++)
                MultiplyAdd(_matrix[((k + p) * k) + j], shards[j].Span, output);
        }
    }

    // output[b] ^= c · input[b] for every byte.
    private static void MultiplyAdd(byte c, ReadOnlySpan<byte> input, Span<byte> output)
    {
        for (var b = 0; b < output.Length; b++)
            output[b] ^= GaloisField.Multiply(c, input[b]);
    }
}
