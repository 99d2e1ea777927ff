using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace PoolAI.Decoding;

/// <summary>
/// The native decoder's arithmetic, written once over <see cref="ILanes{TSelf}"/>. The rule that makes it exact: every
/// output element is one fixed sequence of once-rounded operations that depends only on its own row's inputs, never on
/// the row count, the tile it falls in or the vector width. Matrix products accumulate <c>x[i]·W[i, j]</c> for
/// i = 0, 1, …, in − 1 with fused multiply-adds starting from 0, vectorised across output columns j (never across i);
/// sums over a row (layer norm, softmax) use eight interleaved partial sums added pairwise, then the tail in order.
/// The entry points are compiled fully optimised on first use (no tiered start), so the first request on a silo
/// decodes at full speed.
/// </summary>
internal static unsafe class Kernels
{
    /// <summary>
    /// <c>y[r, 0 … OutStride) = x[r, 0 … In) · Wᵀ (+ b)</c> for r &lt; <paramref name="rows"/>, columns
    /// <paramref name="firstPanel"/> ≤ panel &lt; <paramref name="endPanel"/> of <paramref name="layer"/> only (so
    /// threads can share a product by panels). Padding columns come out 0.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void MatMul<T>(float* x, int xStride, int rows, DecoderWeights.Linear layer, float* y, int yStride, int firstPanel, int endPanel)
        where T : struct, ILanes<T>
    {
        var inputs = layer.In;
        for (var p = firstPanel; p < endPanel; p++)
        {
            var start = p * DecoderWeights.PanelWidth;
            var width = Math.Min(DecoderWeights.PanelWidth, layer.OutStride - start);
            var panel = layer.Panels.Pointer + start * inputs;
            var column = 0;
            for (; column + 4 * T.Count <= width; column += 4 * T.Count)
            {
                var r = 0;
                for (; r + 4 <= rows; r += 4)
                    Tile4x4<T>(x + r * xStride, xStride, inputs, panel + column, width, y + r * yStride + start + column, yStride);
                for (; r < rows; r++)
                    Tile1x4<T>(x + r * xStride, inputs, panel + column, width, y + r * yStride + start + column);
            }

            for (; column < width; column += T.Count)
            {
                for (var r = 0; r < rows; r++)
                    Tile1x1<T>(x + r * xStride, inputs, panel + column, width, y + r * yStride + start + column);
            }

            if (layer.Bias is { } bias)
            {
                for (var r = 0; r < rows; r++)
                    Add<T>(y + r * yStride + start, bias.Pointer + start, width);
            }
        }
    }

    /// <summary>Panels of <paramref name="layer"/> (<see cref="DecoderWeights.PanelWidth"/> output columns each, the last maybe narrower).</summary>
    public static int Panels(DecoderWeights.Linear layer) => (layer.OutStride + DecoderWeights.PanelWidth - 1) / DecoderWeights.PanelWidth;

    /// <summary><c>y[i] += x[i]</c> for i &lt; <paramref name="count"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Add<T>(float* y, float* x, int count)
        where T : struct, ILanes<T>
    {
        var i = 0;
        for (; i + T.Count <= count; i += T.Count)
            (T.Load(y + i) + T.Load(x + i)).Store(y + i);
        for (; i < count; i++)
            y[i] += x[i];
    }

    /// <summary><c>y[i] = a[i] + b[i]</c> for i &lt; <paramref name="count"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Sum<T>(float* y, float* a, float* b, int count)
        where T : struct, ILanes<T>
    {
        var i = 0;
        for (; i + T.Count <= count; i += T.Count)
            (T.Load(a + i) + T.Load(b + i)).Store(y + i);
        for (; i < count; i++)
            y[i] = a[i] + b[i];
    }

    /// <summary><c>x[i] = GELU(x[i])</c> for i &lt; <paramref name="count"/> (<see cref="DecoderMath.Gelu"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Gelu<T>(float* x, int count)
        where T : struct, ILanes<T>
    {
        var i = 0;
        for (; i + T.Count <= count; i += T.Count)
            DecoderMath.Gelu(T.Load(x + i)).Store(x + i);
        for (; i < count; i++)
            DecoderMath.Gelu(Lanes1.Load(x + i)).Store(x + i);
    }

    /// <summary>
    /// Layer norm of one row (Ba, Kiros and Hinton, 2016, as torch.nn.LayerNorm computes it): mean and biased variance
    /// over <paramref name="count"/> floats (two passes, <see cref="Sum8"/> order), then
    /// <c>y = (x − mean) · (1 / √(var + ε)) · scale (+ shift)</c>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void LayerNorm<T>(float* x, float* y, int count, DecoderWeights.Norm norm)
        where T : struct, ILanes<T>
    {
        var vector = T.Count > 1;
        var mean = Sum8(x, count, vector) / count;
        var variance = SquaredDeviations8(x, count, mean, vector) / count;
        var scale = 1f / MathF.Sqrt(variance + DecoderWeights.NormEpsilon);
        var i = 0;
        for (; i + T.Count <= count; i += T.Count)
            Normalise(T.Load(x + i), T.Broadcast(mean), T.Broadcast(scale), norm, i).Store(y + i);
        for (; i < count; i++)
            Normalise(Lanes1.Load(x + i), Lanes1.Broadcast(mean), Lanes1.Broadcast(scale), norm, i).Store(y + i);
    }

    /// <summary>
    /// Σ v[i] for i &lt; <paramref name="count"/> in a fixed order: eight partial sums s_k over i ≡ k (mod 8) of the
    /// whole groups of eight, added as ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7)), then the tail in order.
    /// <paramref name="vector"/> picks 8-lane vectors or eight scalars; both give the same bits.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float Sum8(float* v, int count, bool vector)
    {
        var i = 0;
        float total;
        if (vector)
        {
            var s = Vector256<float>.Zero;
            for (; i + 8 <= count; i += 8)
                s += Vector256.Load(v + i);
            total = Pairwise(s);
        }
        else
        {
            float s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0;
            for (; i + 8 <= count; i += 8)
            {
                s0 += v[i];
                s1 += v[i + 1];
                s2 += v[i + 2];
                s3 += v[i + 3];
                s4 += v[i + 4];
                s5 += v[i + 5];
                s6 += v[i + 6];
                s7 += v[i + 7];
            }

            total = ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7));
        }

        for (; i < count; i++)
            total += v[i];
        return total;
    }

    /// <summary>Σ (v[i] − mean)² in <see cref="Sum8"/>'s order, each square added by a fused multiply-add.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float SquaredDeviations8(float* v, int count, float mean, bool vector)
    {
        var i = 0;
        float total;
        if (vector)
        {
            var s = Vector256<float>.Zero;
            var m = Vector256.Create(mean);
            for (; i + 8 <= count; i += 8)
            {
                var d = Vector256.Load(v + i) - m;
                s = Vector256.FusedMultiplyAdd(d, d, s);
            }

            total = Pairwise(s);
        }
        else
        {
            float s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0;
            for (; i + 8 <= count; i += 8)
            {
                s0 = Square(v[i] - mean, s0);
                s1 = Square(v[i + 1] - mean, s1);
                s2 = Square(v[i + 2] - mean, s2);
                s3 = Square(v[i + 3] - mean, s3);
                s4 = Square(v[i + 4] - mean, s4);
                s5 = Square(v[i + 5] - mean, s5);
                s6 = Square(v[i + 6] - mean, s6);
                s7 = Square(v[i + 7] - mean, s7);
            }

            total = ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7));
        }

        for (; i < count; i++)
            total = Square(v[i] - mean, total);
        return total;
    }

    /// <summary>
    /// Causal self-attention of one row and one head over positions 0 … <paramref name="position"/> of its cache row
    /// (Vaswani et al., 2017): scores <c>q·k_t / √head_size</c>, softmax with the maximum subtracted
    /// (<see cref="DecoderMath.Exp"/>, sum in <see cref="Sum8"/> order), then <c>Σ_t p_t·v_t</c> as two sums, over the even
    /// and the odd t, each accumulated in order, added, and divided by the sum.
    /// </summary>
    /// <param name="query"><c>[head_size]</c>.</param>
    /// <param name="keys">This row and head's keys, transposed: <c>[head_size, keyStride]</c>.</param>
    /// <param name="keyStride">Floats between key rows: the block size padded to 16.</param>
    /// <param name="values">This row and head's values: <c>[block, head_size]</c>.</param>
    /// <param name="headSize">Floats per head.</param>
    /// <param name="position">The row's position: it attends to 0 … position.</param>
    /// <param name="scale">1 / √head_size.</param>
    /// <param name="scores">Scratch of <paramref name="keyStride"/> floats.</param>
    /// <param name="output"><c>[head_size]</c>.</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Attend<T>(float* query, float* keys, int keyStride, float* values, int headSize, int position, float scale, float* scores, float* output)
        where T : struct, ILanes<T>
    {
        var count = position + 1;
        var scaleLanes = T.Broadcast(scale);
        var t = 0;
        for (; t + 3 * T.Count < count; t += 4 * T.Count)
        {
            T a0 = T.Zero, a1 = T.Zero, a2 = T.Zero, a3 = T.Zero;
            var k = keys + t;
            for (var d = 0; d < headSize; d++, k += keyStride)
            {
                var q = T.Broadcast(query[d]);
                a0 = T.MultiplyAdd(q, T.Load(k), a0);
                a1 = T.MultiplyAdd(q, T.Load(k + T.Count), a1);
                a2 = T.MultiplyAdd(q, T.Load(k + 2 * T.Count), a2);
                a3 = T.MultiplyAdd(q, T.Load(k + 3 * T.Count), a3);
            }

            (a0 * scaleLanes).Store(scores + t);
            (a1 * scaleLanes).Store(scores + t + T.Count);
            (a2 * scaleLanes).Store(scores + t + 2 * T.Count);
            (a3 * scaleLanes).Store(scores + t + 3 * T.Count);
        }

        for (; t < count; t += T.Count)
        {
            var a = T.Zero;
            var k = keys + t;
            for (var d = 0; d < headSize; d++, k += keyStride)
                a = T.MultiplyAdd(T.Broadcast(query[d]), T.Load(k), a);
            (a * scaleLanes).Store(scores + t);
        }

        var max = scores[0];
        for (t = 1; t < count; t++)
            max = MathF.Max(max, scores[t]);
        var maxLanes = T.Broadcast(max);
        for (t = 0; t < count; t += T.Count)
            DecoderMath.Exp(T.Load(scores + t) - maxLanes).Store(scores + t);
        var sum = Sum8(scores, count, T.Count > 1);
        var total = T.Broadcast(sum);

        // Two chains per column (even and odd positions) keep the multiply-adds from waiting on each other.
        var j = 0;
        for (; j + 2 * T.Count <= headSize; j += 2 * T.Count)
        {
            T even0 = T.Zero, even1 = T.Zero, odd0 = T.Zero, odd1 = T.Zero;
            var v = values + j;
            for (t = 0; t + 1 < count; t += 2, v += 2 * headSize)
            {
                var p = T.Broadcast(scores[t]);
                even0 = T.MultiplyAdd(p, T.Load(v), even0);
                even1 = T.MultiplyAdd(p, T.Load(v + T.Count), even1);
                p = T.Broadcast(scores[t + 1]);
                odd0 = T.MultiplyAdd(p, T.Load(v + headSize), odd0);
                odd1 = T.MultiplyAdd(p, T.Load(v + headSize + T.Count), odd1);
            }

            if (t < count)
            {
                var p = T.Broadcast(scores[t]);
                even0 = T.MultiplyAdd(p, T.Load(v), even0);
                even1 = T.MultiplyAdd(p, T.Load(v + T.Count), even1);
            }

            ((even0 + odd0) / total).Store(output + j);
            ((even1 + odd1) / total).Store(output + j + T.Count);
        }

        for (; j < headSize; j += T.Count)
        {
            var columns = Math.Min(T.Count, headSize - j);
            if (columns == T.Count)
                WeightedValues<T>(scores, count, values + j, headSize, total).Store(output + j);
            else
            {
                for (var c = 0; c < columns; c++)
                    WeightedValues<Lanes1>(scores, count, values + j + c, headSize, Lanes1.Broadcast(sum)).Store(output + j + c);
            }
        }
    }

    /// <summary>One vector of <c>Σ_t p_t·v_t / total</c>, even and odd positions in separate chains, added at the end.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static T WeightedValues<T>(float* scores, int count, float* values, int headSize, T total)
        where T : struct, ILanes<T>
    {
        T even = T.Zero, odd = T.Zero;
        var t = 0;
        for (; t + 1 < count; t += 2)
        {
            even = T.MultiplyAdd(T.Broadcast(scores[t]), T.Load(values + t * headSize), even);
            odd = T.MultiplyAdd(T.Broadcast(scores[t + 1]), T.Load(values + (t + 1) * headSize), odd);
        }

        if (t < count)
            even = T.MultiplyAdd(T.Broadcast(scores[t]), T.Load(values + t * headSize), even);
        return (even + odd) / total;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static T Normalise<T>(T x, T mean, T scale, DecoderWeights.Norm norm, int i)
        where T : struct, ILanes<T>
    {
        var normalised = (x - mean) * scale;
        return norm.Shift is { } shift
            ? T.MultiplyAdd(normalised, T.Load(norm.Scale.Pointer + i), T.Load(shift.Pointer + i))
            : normalised * T.Load(norm.Scale.Pointer + i);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Square(float d, float sum) => MathF.FusedMultiplyAdd(d, d, sum);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Pairwise(Vector256<float> s) =>
        ((s.GetElement(0) + s.GetElement(1)) + (s.GetElement(2) + s.GetElement(3))) + ((s.GetElement(4) + s.GetElement(5)) + (s.GetElement(6) + s.GetElement(7)));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Tile4x4<T>(float* x, int xStride, int inputs, float* w, int wStride, float* y, int yStride)
        where T : struct, ILanes<T>
    {
        T a00 = T.Zero, a01 = T.Zero, a02 = T.Zero, a03 = T.Zero;
        T a10 = T.Zero, a11 = T.Zero, a12 = T.Zero, a13 = T.Zero;
        T a20 = T.Zero, a21 = T.Zero, a22 = T.Zero, a23 = T.Zero;
        T a30 = T.Zero, a31 = T.Zero, a32 = T.Zero, a33 = T.Zero;
        var x1 = x + xStride;
        var x2 = x1 + xStride;
        var x3 = x2 + xStride;
        for (var i = 0; i < inputs; i++, w += wStride)
        {
            var w0 = T.Load(w);
            var w1 = T.Load(w + T.Count);
            var w2 = T.Load(w + 2 * T.Count);
            var w3 = T.Load(w + 3 * T.Count);
            var b = T.Broadcast(x[i]);
            a00 = T.MultiplyAdd(b, w0, a00);
            a01 = T.MultiplyAdd(b, w1, a01);
            a02 = T.MultiplyAdd(b, w2, a02);
            a03 = T.MultiplyAdd(b, w3, a03);
            b = T.Broadcast(x1[i]);
            a10 = T.MultiplyAdd(b, w0, a10);
            a11 = T.MultiplyAdd(b, w1, a11);
            a12 = T.MultiplyAdd(b, w2, a12);
            a13 = T.MultiplyAdd(b, w3, a13);
            b = T.Broadcast(x2[i]);
            a20 = T.MultiplyAdd(b, w0, a20);
            a21 = T.MultiplyAdd(b, w1, a21);
            a22 = T.MultiplyAdd(b, w2, a22);
            a23 = T.MultiplyAdd(b, w3, a23);
            b = T.Broadcast(x3[i]);
            a30 = T.MultiplyAdd(b, w0, a30);
            a31 = T.MultiplyAdd(b, w1, a31);
            a32 = T.MultiplyAdd(b, w2, a32);
            a33 = T.MultiplyAdd(b, w3, a33);
        }

        Store4(y, a00, a01, a02, a03);
        Store4(y + yStride, a10, a11, a12, a13);
        Store4(y + 2 * yStride, a20, a21, a22, a23);
        Store4(y + 3 * yStride, a30, a31, a32, a33);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Tile1x4<T>(float* x, int inputs, float* w, int wStride, float* y)
        where T : struct, ILanes<T>
    {
        T a0 = T.Zero, a1 = T.Zero, a2 = T.Zero, a3 = T.Zero;
        for (var i = 0; i < inputs; i++, w += wStride)
        {
            var b = T.Broadcast(x[i]);
            a0 = T.MultiplyAdd(b, T.Load(w), a0);
            a1 = T.MultiplyAdd(b, T.Load(w + T.Count), a1);
            a2 = T.MultiplyAdd(b, T.Load(w + 2 * T.Count), a2);
            a3 = T.MultiplyAdd(b, T.Load(w + 3 * T.Count), a3);
        }

        Store4(y, a0, a1, a2, a3);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Tile1x1<T>(float* x, int inputs, float* w, int wStride, float* y)
        where T : struct, ILanes<T>
    {
        var a = T.Zero;
        for (var i = 0; i < inputs; i++, w += wStride)
            a = T.MultiplyAdd(T.Broadcast(x[i]), T.Load(w), a);
        a.Store(y);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store4<T>(float* y, T a0, T a1, T a2, T a3)
        where T : struct, ILanes<T>
    {
        a0.Store(y);
        a1.Store(y + T.Count);
        a2.Store(y + 2 * T.Count);
        a3.Store(y + 3 * T.Count);
    }
}
