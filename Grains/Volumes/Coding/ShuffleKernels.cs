using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace PoolAI.Volumes.Coding;

/// <summary>AVX-512BW split-table multiply (<see cref="NibbleTables"/>), 64 bytes a step.</summary>
internal readonly unsafe struct Avx512ShuffleKernel : IGfVectorKernel<Vector512<byte>>
{
    /// <inheritdoc />
    public static int Width => 64;

    /// <inheritdoc />
    public static int TableBytes => 128;

    /// <inheritdoc />
    public static int MaxGroup => 8;

    /// <inheritdoc />
    public static void Expand(byte c, Span<byte> table) => NibbleTables.Write(c, table, 4);

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Prepare(Vector512<byte> input, out Vector512<byte> low, out Vector512<byte> high)
    {
        var mask = Vector512.Create(NibbleTables.LowNibble);
        low = input & mask;
        high = Vector512.ShiftRightLogical(input.AsUInt16(), 4).AsByte() & mask;
    }

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<byte> MultiplyAdd(Vector512<byte> accumulator, Vector512<byte> low, Vector512<byte> high, byte* table) =>
        Avx512F.TernaryLogic(accumulator,
            Avx512BW.Shuffle(Vector512.Load(table), low),
            Avx512BW.Shuffle(Vector512.Load(table + 64), high),
            0x96);

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<byte> Load(byte* source) => Vector512.Load(source);

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(byte* destination, Vector512<byte> value) => value.Store(destination);
}

/// <summary>AVX2 split-table multiply (<see cref="NibbleTables"/>, <c>VPSHUFB</c>), 32 bytes a step.</summary>
internal readonly unsafe struct Avx2ShuffleKernel : IGfVectorKernel<Vector256<byte>>
{
    /// <inheritdoc />
    public static int Width => 32;

    /// <inheritdoc />
    public static int TableBytes => 64;

    /// <inheritdoc />
    public static int MaxGroup => 6;

    /// <inheritdoc />
    public static void Expand(byte c, Span<byte> table) => NibbleTables.Write(c, table, 2);

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Prepare(Vector256<byte> input, out Vector256<byte> low, out Vector256<byte> high)
    {
        var mask = Vector256.Create(NibbleTables.LowNibble);
        low = input & mask;
        high = Vector256.ShiftRightLogical(input.AsUInt16(), 4).AsByte() & mask;
    }

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<byte> MultiplyAdd(Vector256<byte> accumulator, Vector256<byte> low, Vector256<byte> high, byte* table) =>
        accumulator
        ^ Avx2.Shuffle(Vector256.Load(table), low)
        ^ Avx2.Shuffle(Vector256.Load(table + 32), high);

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<byte> Load(byte* source) => Vector256.Load(source);

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(byte* destination, Vector256<byte> value) => value.Store(destination);
}

/// <summary>128-bit split-table multiply (SSSE3 <c>PSHUFB</c> on x64, <c>TBL</c> on Arm64), 16 bytes a step.</summary>
internal readonly unsafe struct Vector128ShuffleKernel : IGfVectorKernel<Vector128<byte>>
{
    /// <inheritdoc />
    public static int Width => 16;

    /// <inheritdoc />
    public static int TableBytes => 32;

    /// <inheritdoc />
    public static int MaxGroup => 4;

    /// <inheritdoc />
    public static void Expand(byte c, Span<byte> table) => NibbleTables.Write(c, table, 1);

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Prepare(Vector128<byte> input, out Vector128<byte> low, out Vector128<byte> high)
    {
        var mask = Vector128.Create(NibbleTables.LowNibble);
        low = input & mask;
        high = Vector128.ShiftRightLogical(input.AsUInt16(), 4).AsByte() & mask;
    }

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<byte> MultiplyAdd(Vector128<byte> accumulator, Vector128<byte> low, Vector128<byte> high, byte* table) =>
        accumulator
        ^ Vector128.ShuffleNative(Vector128.Load(table), low)
        ^ Vector128.ShuffleNative(Vector128.Load(table + 16), high);

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<byte> Load(byte* source) => Vector128.Load(source);

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(byte* destination, Vector128<byte> value) => value.Store(destination);
}
