namespace PoolAI.Volumes.Coding;

/// <summary>
/// How to fill the missing shards of one erasure pattern: which K present shards to read, which shards to write, and
/// the matrix that maps one to the other, prepared for a coder. Immutable, so one plan serves concurrent calls.
/// </summary>
/// <param name="Inputs">Indexes of the K shards read: the first K present ones (data first, so identity rows are used when they can be).</param>
/// <param name="Outputs">Indexes of the shards written: the missing data shards, then (unless data only) the missing parity shards.</param>
/// <param name="Tables">The Outputs.Length × K decode matrix.</param>
internal sealed record DecodePlan(int[] Inputs, int[] Outputs, CodingTables Tables)
{
    /// <summary>
    /// The plan for <paramref name="present"/>: with S the K × K rows of the encoding matrix <paramref name="encoding"/> for
    /// the inputs, data = S⁻¹ · inputs, so a missing data shard d is row d of S⁻¹ and a missing parity shard p is row p of
    /// the encoding matrix times S⁻¹; every missing shard is then one dot product over the inputs, in one pass.
    /// </summary>
    /// <param name="encoding">The (K + M) × K encoding matrix.</param>
    /// <param name="dataShards">K.</param>
    /// <param name="present">K + M flags with at least K set.</param>
    /// <param name="dataOnly">Leave missing parity shards alone.</param>
    /// <param name="coder">The coder the tables are prepared for.</param>
    public static DecodePlan Create(byte[] encoding, int dataShards, ReadOnlySpan<bool> present, bool dataOnly, ShardCoder coder)
    {
        var k = dataShards;
        var inputs = new int[k];
        var outputs = new List<int>();
        for (int i = 0, found = 0; i < present.Length; i++)
        {
            if (present[i] && found < k)
                inputs[found++] = i;
            else if (!present[i] && (i < k || !dataOnly))
                outputs.Add(i);
        }

        var survivors = new byte[k * k];
        for (var r = 0; r < k; r++)
            encoding.AsSpan(inputs[r] * k, k).CopyTo(survivors.AsSpan(r * k));
        var decode = CodingMatrix.Invert(survivors, k);
        var coefficients = new byte[outputs.Count * k];
        for (var o = 0; o < outputs.Count; o++)
        {
            var row = outputs[o] < k
                ? decode.AsSpan(outputs[o] * k, k)
                : CodingMatrix.Multiply(encoding.AsSpan(outputs[o] * k, k), 1, decode, k, k);
            row.CopyTo(coefficients.AsSpan(o * k));
        }

        return new DecodePlan(inputs, [.. outputs], coder.Prepare(coefficients, outputs.Count, k));
    }
}
