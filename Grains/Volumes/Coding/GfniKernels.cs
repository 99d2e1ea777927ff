using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace PoolAI.Volumes.Coding;

/// <summary>
/// GFNI with AVX-512: one <c>VGF2P8AFFINEQB</c> multiplies 64 bytes by a constant (<see cref="AffineMatrix"/>); the
/// table is the constant's 8-byte matrix, broadcast at use.
/// </summary>
internal readonly unsafe struct Gfni512Kernel : IGfVectorKernel<Vector512<byte>>
{
    /// <inheritdoc />
    public static int Width => 64;

    /// <inheritdoc />
    public static int TableBytes => 8;

    /// <inheritdoc />
    public static int MaxGroup => 8;

    /// <inheritdoc />
    public static void Expand(byte c, Span<byte> table) => MemoryMarshal.Write(table, AffineMatrix.For(c));

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Prepare(Vector512<byte> input, out Vector512<byte> low, out Vector512<byte> high)
    {
        low = input;
        high = default;
    }

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<byte> MultiplyAdd(Vector512<byte> accumulator, Vector512<byte> low, Vector512<byte> high, byte* table) =>
        accumulator ^ Gfni.V512.GaloisFieldAffineTransform(low, Vector512.Create(*(ulong*)table).AsByte(), 0);

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<byte> Load(byte* source) => Vector512.Load(source);

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(byte* destination, Vector512<byte> value) => value.Store(destination);
}

/// <summary>GFNI on 256-bit vectors (CPUs with GFNI and AVX but without AVX-512): as <see cref="Gfni512Kernel"/>, 32 bytes a step.</summary>
internal readonly unsafe struct Gfni256Kernel : IGfVectorKernel<Vector256<byte>>
{
    /// <inheritdoc />
    public static int Width => 32;

    /// <inheritdoc />
    public static int TableBytes => 8;

    /// <inheritdoc />
    public static int MaxGroup => 6;

    /// <inheritdoc />
    public static void Expand(byte c, Span<byte> table) => MemoryMarshal.Write(table, AffineMatrix.For(c));

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Prepare(Vector256<byte> input, out Vector256<byte> low, out Vector256<byte> high)
    {
        low = input;
        high = default;
    }

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<byte> MultiplyAdd(Vector256<byte> accumulator, Vector256<byte> low, Vector256<byte> high, byte* table) =>
        accumulator ^ Gfni.V256.GaloisFieldAffineTransform(low, Vector256.Create(*(ulong*)table).AsByte(), 0);

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<byte> Load(byte* source) => Vector256.Load(source);

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(byte* destination, Vector256<byte> value) => value.Store(destination);
}
