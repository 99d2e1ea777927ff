using System.Collections.Concurrent;

namespace PoolAI.Volumes.Coding;

/// <summary>
/// Reed–Solomon erasure code over GF(2^8): K data shards and M parity shards, any K of which rebuild the rest.
/// <para>Construction. Bytes are elements of GF(2^8) built on the polynomial 0x11D (x^8 + x^4 + x^3 + x^2 + 1), as in
/// Intel ISA-L and klauspost/reedsolomon. The (K + M) × K encoding matrix is systematic — the identity on top, so data
/// shards are stored unchanged — with parity row r, column j equal to 1 / ((K + r) XOR j): ISA-L's
/// <c>gf_gen_cauchy1_matrix</c> (<c>erasure_code/ec_base.c</c>), a Cauchy matrix, every square submatrix of which is
/// invertible, so any K rows of the whole are. Our parity bytes therefore equal ISA-L's <c>ec_encode_data</c> output for
/// the same data (a test checks this against libisal). Decoding picks the first K present shards, inverts their K × K
/// rows of the matrix by Gauss–Jordan elimination and computes every missing shard as one dot product over them; the
/// decode matrix of each erasure pattern is cached.</para>
/// <para>Speed. Each output is XOR over inputs i of c_i · input_i, computed a vector at a time with a group of outputs held
/// in registers and every input loaded once per vector (ISA-L's <c>gf_Nvect_dot_prod</c>). The multiply by a constant
/// is, on CPUs with GFNI, one <c>GF2P8AFFINEQB</c>: multiplying by c is GF(2)-linear, an 8 × 8 bit matrix, in any
/// field (Intel's "Galois Field New Instructions Technology Guide"; ISA-L's and klauspost's GFNI kernels). Otherwise it
/// is the split-table shuffle of Plank, Greenan and Miller, "Screaming Fast Galois Field Arithmetic Using Intel SIMD
/// Instructions" (FAST 2013): two 16-entry tables looked up by the low and high nibbles with <c>PSHUFB</c>. The kernel is
/// chosen at start-up, fastest first: GFNI on 512-bit vectors, GFNI on 256, AVX-512BW shuffle, AVX2 shuffle, 128-bit
/// shuffle (SSSE3 or Arm64), scalar; <see cref="Features"/> names it.</para>
/// <para>Thread-safe: any number of Encode and Reconstruct calls may run on one instance at once.</para>
/// </summary>
public sealed class ReedSolomon
{
    // Erasure patterns a code keeps decode matrices for; past this the cache starts over (a big code under random
    // losses has more patterns than are worth keeping).
    private const int MaxCachedPlans = 1024;

    private readonly byte[] _matrix;
    private readonly ShardCoder _coder;
    private readonly CodingTables _encode;
    private readonly ConcurrentDictionary<ErasurePattern, DecodePlan> _plans = new();

    /// <summary>A code of <paramref name="dataShards"/> data shards (K) and <paramref name="parityShards"/> parity shards (M), on this CPU's fastest path.</summary>
    /// <exception cref="ArgumentOutOfRangeException">K &lt; 1, M &lt; 1 or K + M &gt; 255 (names the parameter; the sum names parityShards).</exception>
    public ReedSolomon(int dataShards, int parityShards)
        : this(dataShards, parityShards, CodecPaths.Best)
    {
    }

    /// <summary>A code forced onto <paramref name="path"/>, for tests of every kernel this CPU runs.</summary>
    /// <exception cref="NotSupportedException">This CPU does not support the path.</exception>
    internal ReedSolomon(int dataShards, int parityShards, CodecPath path)
    {
        ShardArguments.CheckCode(dataShards, parityShards);
        DataShards = dataShards;
        ParityShards = parityShards;
        Path = path;
        _coder = CodecPaths.CoderFor(path);
        _matrix = CodingMatrix.Cauchy(dataShards, parityShards);
        _encode = _coder.Prepare(_matrix[(dataShards * dataShards)..], parityShards, dataShards);
    }

    /// <summary>K: shards holding the data.</summary>
    public int DataShards { get; }

    /// <summary>M: parity shards; any M shards can be lost.</summary>
    public int ParityShards { get; }

    /// <summary>K + M.</summary>
    public int TotalShards => DataShards + ParityShards;

    /// <summary>
    /// The kernel this CPU runs: "gfni+avx512", "gfni+avx" (GFNI on 256-bit vectors), "avx512bw", "avx2", "ssse3",
    /// "neon" (the last three split-table shuffles) or "scalar".
    /// </summary>
    public static string Features { get; } = CodecPaths.Name(CodecPaths.Best);

    /// <summary>The kernel this instance runs.</summary>
    internal CodecPath Path { get; }

    /// <summary>
    /// Writes the M parity shards of K data shards. Every buffer has the same length, any length (0 included); parity
    /// buffers must not overlap the data.
    /// </summary>
    /// <param name="data">K data shards.</param>
    /// <param name="parity">M parity shards, overwritten.</param>
    /// <exception cref="ArgumentException">Not K data and M parity buffers, or their lengths differ (names the parameter).</exception>
    public void Encode(ReadOnlySpan<ReadOnlyMemory<byte>> data, ReadOnlySpan<Memory<byte>> parity)
    {
        ShardArguments.CheckEncode(data, parity, DataShards, ParityShards);
        _coder.Run(_encode, data, parity);
    }

    /// <summary>
    /// Fills the missing shards of a stripe from any K present ones: every missing shard, or only the missing data shards
    /// when <paramref name="dataOnly"/>. Present shards are only read.
    /// </summary>
    /// <param name="shards">K + M buffers of one length: data shards 0..K−1, then parity shards; missing ones are overwritten.</param>
    /// <param name="present">K + M flags: shard i holds valid bytes.</param>
    /// <param name="dataOnly">Leave missing parity shards as they are.</param>
    /// <exception cref="ArgumentException">Not K + M shards and flags, or shard lengths differ (names the parameter).</exception>
    /// <exception cref="InvalidOperationException">Fewer than K shards are present (the message says how many are and how many are needed).</exception>
    public void Reconstruct(ReadOnlySpan<Memory<byte>> shards, ReadOnlySpan<bool> present, bool dataOnly = false)
    {
        var count = ShardArguments.CheckReconstruct(shards, present, DataShards, TotalShards);
        if (count == TotalShards || (dataOnly && !present[..DataShards].Contains(false)))
            return;
        var plan = PlanFor(present, dataOnly);
        var inputs = new ReadOnlyMemory<byte>[plan.Inputs.Length];
        for (var i = 0; i < inputs.Length; i++)
            inputs[i] = shards[plan.Inputs[i]];
        var outputs = new Memory<byte>[plan.Outputs.Length];
        for (var o = 0; o < outputs.Length; o++)
            outputs[o] = shards[plan.Outputs[o]];
        _coder.Run(plan.Tables, inputs, outputs);
    }

    private DecodePlan PlanFor(ReadOnlySpan<bool> present, bool dataOnly)
    {
        var pattern = ErasurePattern.Of(present, dataOnly);
        if (_plans.TryGetValue(pattern, out var plan))
            return plan;
        plan = DecodePlan.Create(_matrix, DataShards, present, dataOnly, _coder);
        if (_plans.Count >= MaxCachedPlans)
            _plans.Clear();
        return _plans.GetOrAdd(pattern, plan);
    }
}
