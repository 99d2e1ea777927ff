using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace PoolAI.Decoding;

/// <summary>
/// A vector of float lanes the native decoder's kernels are written over, once, for every width. Each operation is
/// element-wise and rounds once as IEEE 754 prescribes (the multiply-add is fused: one rounding), so a lane's result
/// never depends on how many lanes sit beside it: the 16-, 8- and 1-lane kernels give the same bits.
/// </summary>
internal interface ILanes<TSelf>
    where TSelf : struct, ILanes<TSelf>
{
    /// <summary>Floats per vector.</summary>
    static abstract int Count { get; }

    static abstract TSelf Zero { get; }

    static abstract unsafe TSelf Load(float* source);

    static abstract TSelf Broadcast(float value);

    /// <summary><c>a·b + c</c> with one rounding.</summary>
    static abstract TSelf MultiplyAdd(TSelf a, TSelf b, TSelf c);

    static abstract TSelf operator +(TSelf a, TSelf b);

    static abstract TSelf operator -(TSelf a, TSelf b);

    static abstract TSelf operator *(TSelf a, TSelf b);

    static abstract TSelf operator /(TSelf a, TSelf b);

    static abstract TSelf Min(TSelf a, TSelf b);

    static abstract TSelf Max(TSelf a, TSelf b);

    static abstract TSelf Abs(TSelf a);

    static abstract TSelf Floor(TSelf a);

    /// <summary>The magnitude of <paramref name="magnitude"/> with the sign of <paramref name="sign"/>.</summary>
    static abstract TSelf CopySign(TSelf magnitude, TSelf sign);

    /// <summary>2^n for whole numbers n in [-126, 127], built from the exponent bits (exact).</summary>
    static abstract TSelf PowerOfTwo(TSelf n);

    unsafe void Store(float* destination);
}

/// <summary>16 lanes (<see cref="Vector512{T}"/>: AVX-512 where present).</summary>
internal struct Lanes16 : ILanes<Lanes16>
{
    private Vector512<float> _v;

    public static int Count => 16;

    public static Lanes16 Zero => default;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe Lanes16 Load(float* source) => new() { _v = Vector512.Load(source) };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes16 Broadcast(float value) => new() { _v = Vector512.Create(value) };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes16 MultiplyAdd(Lanes16 a, Lanes16 b, Lanes16 c) => new() { _v = Vector512.FusedMultiplyAdd(a._v, b._v, c._v) };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes16 operator +(Lanes16 a, Lanes16 b) => new() { _v = a._v + b._v };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes16 operator -(Lanes16 a, Lanes16 b) => new() { _v = a._v - b._v };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes16 operator *(Lanes16 a, Lanes16 b) => new() { _v = a._v * b._v };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes16 operator /(Lanes16 a, Lanes16 b) => new() { _v = a._v / b._v };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes16 Min(Lanes16 a, Lanes16 b) => new() { _v = Vector512.Min(a._v, b._v) };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes16 Max(Lanes16 a, Lanes16 b) => new() { _v = Vector512.Max(a._v, b._v) };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes16 Abs(Lanes16 a) => new() { _v = Vector512.Abs(a._v) };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes16 Floor(Lanes16 a) => new() { _v = Vector512.Floor(a._v) };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes16 CopySign(Lanes16 magnitude, Lanes16 sign) => new() { _v = Vector512.CopySign(magnitude._v, sign._v) };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes16 PowerOfTwo(Lanes16 n) =>
        new() { _v = Vector512.ShiftLeft(Vector512.ConvertToInt32(n._v) + Vector512.Create(127), 23).AsSingle() };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly unsafe void Store(float* destination) => _v.Store(destination);
}

/// <summary>8 lanes (<see cref="Vector256{T}"/>: AVX2 where present).</summary>
internal struct Lanes8 : ILanes<Lanes8>
{
    private Vector256<float> _v;

    public static int Count => 8;

    public static Lanes8 Zero => default;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe Lanes8 Load(float* source) => new() { _v = Vector256.Load(source) };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes8 Broadcast(float value) => new() { _v = Vector256.Create(value) };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes8 MultiplyAdd(Lanes8 a, Lanes8 b, Lanes8 c) => new() { _v = Vector256.FusedMultiplyAdd(a._v, b._v, c._v) };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes8 operator +(Lanes8 a, Lanes8 b) => new() { _v = a._v + b._v };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes8 operator -(Lanes8 a, Lanes8 b) => new() { _v = a._v - b._v };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes8 operator *(Lanes8 a, Lanes8 b) => new() { _v = a._v * b._v };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes8 operator /(Lanes8 a, Lanes8 b) => new() { _v = a._v / b._v };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes8 Min(Lanes8 a, Lanes8 b) => new() { _v = Vector256.Min(a._v, b._v) };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes8 Max(Lanes8 a, Lanes8 b) => new() { _v = Vector256.Max(a._v, b._v) };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes8 Abs(Lanes8 a) => new() { _v = Vector256.Abs(a._v) };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes8 Floor(Lanes8 a) => new() { _v = Vector256.Floor(a._v) };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes8 CopySign(Lanes8 magnitude, Lanes8 sign) => new() { _v = Vector256.CopySign(magnitude._v, sign._v) };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes8 PowerOfTwo(Lanes8 n) =>
        new() { _v = Vector256.ShiftLeft(Vector256.ConvertToInt32(n._v) + Vector256.Create(127), 23).AsSingle() };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly unsafe void Store(float* destination) => _v.Store(destination);
}

/// <summary>4 lanes (<see cref="Vector128{T}"/>: SSE or Arm AdvSIMD).</summary>
internal struct Lanes4 : ILanes<Lanes4>
{
    private Vector128<float> _v;

    public static int Count => 4;

    public static Lanes4 Zero => default;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe Lanes4 Load(float* source) => new() { _v = Vector128.Load(source) };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes4 Broadcast(float value) => new() { _v = Vector128.Create(value) };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes4 MultiplyAdd(Lanes4 a, Lanes4 b, Lanes4 c) => new() { _v = Vector128.FusedMultiplyAdd(a._v, b._v, c._v) };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes4 operator +(Lanes4 a, Lanes4 b) => new() { _v = a._v + b._v };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes4 operator -(Lanes4 a, Lanes4 b) => new() { _v = a._v - b._v };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes4 operator *(Lanes4 a, Lanes4 b) => new() { _v = a._v * b._v };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes4 operator /(Lanes4 a, Lanes4 b) => new() { _v = a._v / b._v };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes4 Min(Lanes4 a, Lanes4 b) => new() { _v = Vector128.Min(a._v, b._v) };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes4 Max(Lanes4 a, Lanes4 b) => new() { _v = Vector128.Max(a._v, b._v) };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes4 Abs(Lanes4 a) => new() { _v = Vector128.Abs(a._v) };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes4 Floor(Lanes4 a) => new() { _v = Vector128.Floor(a._v) };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes4 CopySign(Lanes4 magnitude, Lanes4 sign) => new() { _v = Vector128.CopySign(magnitude._v, sign._v) };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes4 PowerOfTwo(Lanes4 n) =>
        new() { _v = Vector128.ShiftLeft(Vector128.ConvertToInt32(n._v) + Vector128.Create(127), 23).AsSingle() };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly unsafe void Store(float* destination) => _v.Store(destination);
}

/// <summary>One lane (plain floats; <see cref="MathF.FusedMultiplyAdd"/> is exact in software where the CPU lacks FMA).</summary>
internal struct Lanes1 : ILanes<Lanes1>
{
    private float _v;

    public static int Count => 1;

    public static Lanes1 Zero => default;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe Lanes1 Load(float* source) => new() { _v = *source };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes1 Broadcast(float value) => new() { _v = value };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes1 MultiplyAdd(Lanes1 a, Lanes1 b, Lanes1 c) => new() { _v = MathF.FusedMultiplyAdd(a._v, b._v, c._v) };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes1 operator +(Lanes1 a, Lanes1 b) => new() { _v = a._v + b._v };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes1 operator -(Lanes1 a, Lanes1 b) => new() { _v = a._v - b._v };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes1 operator *(Lanes1 a, Lanes1 b) => new() { _v = a._v * b._v };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes1 operator /(Lanes1 a, Lanes1 b) => new() { _v = a._v / b._v };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes1 Min(Lanes1 a, Lanes1 b) => new() { _v = MathF.Min(a._v, b._v) };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes1 Max(Lanes1 a, Lanes1 b) => new() { _v = MathF.Max(a._v, b._v) };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes1 Abs(Lanes1 a) => new() { _v = MathF.Abs(a._v) };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes1 Floor(Lanes1 a) => new() { _v = MathF.Floor(a._v) };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes1 CopySign(Lanes1 magnitude, Lanes1 sign) => new() { _v = MathF.CopySign(magnitude._v, sign._v) };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes1 PowerOfTwo(Lanes1 n) => new() { _v = BitConverter.Int32BitsToSingle(((int)n._v + 127) << 23) };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly unsafe void Store(float* destination) => *destination = _v;

    public readonly float ToSingle() => _v;
}
