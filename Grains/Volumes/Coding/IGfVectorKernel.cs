namespace PoolAI.Volumes.Coding;

/// <summary>
/// One SIMD way of multiplying a vector of GF(2^8) bytes by a constant: its width, how a constant is expanded into the
/// table the multiply reads, and the multiply-accumulate itself. <see cref="DotProduct"/> is written once over this and
/// the JIT specialises it per implementation (they are structs), so each kernel compiles to straight SIMD code.
/// </summary>
/// <typeparam name="TVector">The hardware vector: <c>Vector512&lt;byte&gt;</c>, <c>Vector256&lt;byte&gt;</c> or <c>Vector128&lt;byte&gt;</c>.</typeparam>
internal unsafe interface IGfVectorKernel<TVector> where TVector : unmanaged
{
    /// <summary>Bytes per vector.</summary>
    static abstract int Width { get; }

    /// <summary>Bytes of expanded table per constant.</summary>
    static abstract int TableBytes { get; }

    /// <summary>Most outputs accumulated in registers at once (bounded by the register file).</summary>
    static abstract int MaxGroup { get; }

    /// <summary>Writes the <see cref="TableBytes"/> bytes that <see cref="MultiplyAdd"/> reads for the constant <paramref name="c"/>.</summary>
    static abstract void Expand(byte c, Span<byte> table);

    /// <summary>Splits an input vector into the operands every multiply of it takes (for the shuffle kernels its low and
    /// high nibbles, computed once per input and reused for every output); an affine kernel passes the bytes through.</summary>
    static abstract void Prepare(TVector input, out TVector low, out TVector high);

    /// <summary>accumulator XOR (c · input), with <paramref name="table"/> the expansion of c.</summary>
    static abstract TVector MultiplyAdd(TVector accumulator, TVector low, TVector high, byte* table);

    /// <summary>Loads a vector from unaligned memory.</summary>
    static abstract TVector Load(byte* source);

    /// <summary>Stores a vector to unaligned memory.</summary>
    static abstract void Store(byte* destination, TVector value);
}
