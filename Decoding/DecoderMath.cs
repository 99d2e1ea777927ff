using System.Runtime.CompilerServices;

namespace PoolAI.Decoding;

/// <summary>
/// The transcendental functions of the native decoder, written with nothing but IEEE 754 operations that round once
/// (add, multiply, divide, fused multiply-add, floor, exponent bits) so they give the same bits on every CPU, every
/// vector width and every runtime; the platform's <c>expf</c> and <c>erff</c> differ between C libraries. The scalar
/// members here are the same code as the vector kernels run (one lane).
/// </summary>
public static class DecoderMath
{
    // Cephes expf (S. L. Moshier, Cephes Math Library 2.2, expf.c; "Methods and Programs for Mathematical
    // Functions", 1989): e^x = 2^n · e^r with n = floor(x·log2(e) + ½), r = x − n·ln 2 in two parts (Cody and Waite),
    // and e^r ≈ 1 + r + r²·P(r) on |r| ≤ ½ ln 2.
    private const float Log2E = 1.44269504088896341f;
    private const float Ln2High = 0.693359375f;
    private const float Ln2Low = -2.12194440e-4f;
    private const float ExpP0 = 1.9875691500e-4f;
    private const float ExpP1 = 1.3981999507e-3f;
    private const float ExpP2 = 8.3334519073e-3f;
    private const float ExpP3 = 4.1665795894e-2f;
    private const float ExpP4 = 1.6666665459e-1f;
    private const float ExpP5 = 5.0000001201e-1f;

    /// <summary>Smallest argument of <see cref="Exp"/>; below it the result is e^<c>ExpMin</c> (about 1.2·10⁻³⁸).</summary>
    public const float ExpMin = -87.33654f;

    /// <summary>Largest argument of <see cref="Exp"/> (2^127 stays a normal number); above it the result is e^<c>ExpMax</c>.</summary>
    public const float ExpMax = 88.0f;

    // Abramowitz and Stegun, Handbook of Mathematical Functions (1964), formula 7.1.26:
    // erf(x) = 1 − (a1·t + a2·t² + a3·t³ + a4·t⁴ + a5·t⁵)·e^(−x²), t = 1 / (1 + p·x), x ≥ 0, |error| ≤ 1.5·10⁻⁷.
    // PyTorch's vectorised CPU erf (ATen Vectorized<float>::erf), which its GELU uses, is the same formula.
    private const float ErfP = 0.3275911f;
    private const float ErfA1 = 0.254829592f;
    private const float ErfA2 = -0.284496736f;
    private const float ErfA3 = 1.421413741f;
    private const float ErfA4 = -1.453152027f;
    private const float ErfA5 = 1.061405429f;
    private const float OneOverSqrt2 = 0.70710678118654752f;

    /// <summary>
    /// e^x (Cephes <c>expf</c>: Cody–Waite reduction, degree-7 polynomial); arguments are clamped to
    /// [<see cref="ExpMin"/>, <see cref="ExpMax"/>]. Error below one unit in the last place (0.97 at worst over
    /// 240,000 points of the range, against <see cref="Math.Exp"/>; the tests check it).
    /// </summary>
    public static float Exp(float x) => Exp(Lanes1.Broadcast(x)).ToSingle();

    /// <summary>
    /// erf(x) by Abramowitz and Stegun 7.1.26: absolute error at most 1.5·10⁻⁷ in exact arithmetic; in floats at most
    /// 5·10⁻⁷ (the worst, 4.9·10⁻⁷, near x = ±0.05, where 1 − tail cancels; checked in the tests).
    /// </summary>
    public static float Erf(float x) => Erf(Lanes1.Broadcast(x)).ToSingle();

    /// <summary>
    /// GELU as PyTorch defines it by default (<c>approximate='none'</c>): <c>x · ½ · (1 + erf(x / √2))</c>
    /// (Hendrycks and Gimpel, "Gaussian Error Linear Units", 2016), with <see cref="Erf"/>.
    /// </summary>
    public static float Gelu(float x) => Gelu(Lanes1.Broadcast(x)).ToSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static T Exp<T>(T x)
        where T : struct, ILanes<T>
    {
        x = T.Min(T.Max(x, T.Broadcast(ExpMin)), T.Broadcast(ExpMax));
        var n = T.Floor(T.MultiplyAdd(x, T.Broadcast(Log2E), T.Broadcast(0.5f)));
        var r = T.MultiplyAdd(n, T.Broadcast(-Ln2High), x);
        r = T.MultiplyAdd(n, T.Broadcast(-Ln2Low), r);
        var p = T.MultiplyAdd(T.Broadcast(ExpP0), r, T.Broadcast(ExpP1));
        p = T.MultiplyAdd(p, r, T.Broadcast(ExpP2));
        p = T.MultiplyAdd(p, r, T.Broadcast(ExpP3));
        p = T.MultiplyAdd(p, r, T.Broadcast(ExpP4));
        p = T.MultiplyAdd(p, r, T.Broadcast(ExpP5));
        var y = T.MultiplyAdd(p, r * r, r) + T.Broadcast(1f);
        return y * T.PowerOfTwo(n);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static T Erf<T>(T x)
        where T : struct, ILanes<T>
    {
        var one = T.Broadcast(1f);
        var t = one / T.MultiplyAdd(T.Broadcast(ErfP), T.Abs(x), one);
        var r = T.MultiplyAdd(T.Broadcast(ErfA5), t, T.Broadcast(ErfA4));
        r = T.MultiplyAdd(r, t, T.Broadcast(ErfA3));
        r = T.MultiplyAdd(r, t, T.Broadcast(ErfA2));
        r = T.MultiplyAdd(r, t, T.Broadcast(ErfA1));
        var tail = r * t * Exp(T.Zero - x * x);
        return T.CopySign(one - tail, x);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static T Gelu<T>(T x)
        where T : struct, ILanes<T> =>
        x * T.Broadcast(0.5f) * (T.Broadcast(1f) + Erf(x * T.Broadcast(OneOverSqrt2)));
}
