namespace PoolAI.Decoding;

/// <summary>
/// Vector width of the <see cref="NativeDecoder"/>'s kernels, in floats. Every width gives the same bits (see
/// <see cref="NativeDecoder"/>); only the speed differs, so a width the CPU lacks still works, slowly.
/// </summary>
public enum DecoderLanes
{
    /// <summary>The widest the CPU runs natively: 16 with AVX-512, 8 with AVX2, 4 with SSE or Arm AdvSIMD, else 1.</summary>
    Auto = 0,

    /// <summary>Plain floats.</summary>
    One = 1,

    /// <summary>128-bit vectors.</summary>
    Four = 4,

    /// <summary>256-bit vectors.</summary>
    Eight = 8,

    /// <summary>512-bit vectors.</summary>
    Sixteen = 16,
}
