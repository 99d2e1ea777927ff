using System.Runtime.CompilerServices;

namespace PoolAI.Decoding;

/// <summary>
/// Floats on the pinned-object heap starting at a 64-byte boundary (one cache line, one 16-lane vector), so the
/// kernels can hold a raw pointer to them for the buffer's lifetime; zeroed when made. The garbage collector frees them.
/// </summary>
internal sealed unsafe class AlignedFloats
{
    private const int Alignment = 64;
    private readonly float[] _array;

    public AlignedFloats(int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        _array = GC.AllocateArray<float>(length + Alignment / sizeof(float), pinned: true);
        var address = (nint)Unsafe.AsPointer(ref _array[0]);
        Pointer = (float*)(address + ((Alignment - (address & (Alignment - 1))) & (Alignment - 1)));
        Length = length;
    }

    /// <summary>The first float; valid while this object lives (pinned arrays never move).</summary>
    public float* Pointer { get; }

    public int Length { get; }

    public Span<float> Span => new(Pointer, Length);
}
