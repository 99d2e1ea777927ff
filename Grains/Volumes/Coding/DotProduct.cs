using System.Runtime.CompilerServices;

namespace PoolAI.Volumes.Coding;

/// <summary>
/// The inner loop of encoding and decoding: for one group of up to 8 outputs, out[o][b] = XOR over inputs i of
/// c[o,i] · in[i][b] for every byte b of a column range, one vector of columns at a time, every input loaded once per
/// vector and the group's sums held in registers until they are stored (ISA-L's <c>gf_Nvect_dot_prod</c> scheme).
/// </summary>
internal static unsafe class DotProduct
{
    /// <summary>
    /// Computes bytes [start, end) of <typeparamref name="TGroup"/> outputs; needs end − start ≥ the vector width (the
    /// last vector is moved back to end at <paramref name="end"/>, recomputing a few bytes, which is harmless because an
    /// output is a pure function of the inputs).
    /// </summary>
    /// <param name="inputs">Pointers to the input shards.</param>
    /// <param name="inputCount">How many inputs.</param>
    /// <param name="outputs">Pointers to this group's output shards.</param>
    /// <param name="tables">The group's expanded constants, input-major: [input][output] × TableBytes.</param>
    /// <param name="start">First byte, inclusive.</param>
    /// <param name="end">Last byte, exclusive.</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run<TKernel, TVector, TGroup>(byte** inputs, int inputCount, byte** outputs, byte* tables, nuint start, nuint end)
        where TKernel : struct, IGfVectorKernel<TVector>
        where TVector : unmanaged
        where TGroup : struct, IGroupSize
    {
        var width = (nuint)TKernel.Width;
        var stride = TKernel.TableBytes;
        var step = TGroup.Value * stride;
        for (var offset = start; offset < end; offset += width)
        {
            if (offset + width > end)
                offset = end - width;
            TVector a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default, a6 = default, a7 = default;
            var table = tables;
            for (var i = 0; i < inputCount; i++, table += step)
            {
                TKernel.Prepare(TKernel.Load(inputs[i] + offset), out var low, out var high);
                a0 = TKernel.MultiplyAdd(a0, low, high, table);
                if (TGroup.Value > 1)
                    a1 = TKernel.MultiplyAdd(a1, low, high, table + stride);
                if (TGroup.Value > 2)
                    a2 = TKernel.MultiplyAdd(a2, low, high, table + (2 * stride));
                if (TGroup.Value > 3)
                    a3 = TKernel.MultiplyAdd(a3, low, high, table + (3 * stride));
                if (TGroup.Value > 4)
                    a4 = TKernel.MultiplyAdd(a4, low, high, table + (4 * stride));
                if (TGroup.Value > 5)
                    a5 = TKernel.MultiplyAdd(a5, low, high, table + (5 * stride));
                if (TGroup.Value > 6)
                    a6 = TKernel.MultiplyAdd(a6, low, high, table + (6 * stride));
                if (TGroup.Value > 7)
                    a7 = TKernel.MultiplyAdd(a7, low, high, table + (7 * stride));
            }

            TKernel.Store(outputs[0] + offset, a0);
            if (TGroup.Value > 1)
                TKernel.Store(outputs[1] + offset, a1);
            if (TGroup.Value > 2)
                TKernel.Store(outputs[2] + offset, a2);
            if (TGroup.Value > 3)
                TKernel.Store(outputs[3] + offset, a3);
            if (TGroup.Value > 4)
                TKernel.Store(outputs[4] + offset, a4);
            if (TGroup.Value > 5)
                TKernel.Store(outputs[5] + offset, a5);
            if (TGroup.Value > 6)
                TKernel.Store(outputs[6] + offset, a6);
            if (TGroup.Value > 7)
                TKernel.Store(outputs[7] + offset, a7);
        }
    }

    /// <summary>
    /// The same sums one byte at a time through the 64 KiB product table: the scalar path, and the whole job when a shard
    /// is shorter than one vector.
    /// </summary>
    /// <param name="inputs">Pointers to the input shards.</param>
    /// <param name="inputCount">How many inputs.</param>
    /// <param name="outputs">Pointers to the output shards.</param>
    /// <param name="outputCount">How many outputs.</param>
    /// <param name="coefficients">c[o,i], output-major: [output][input].</param>
    /// <param name="start">First byte, inclusive.</param>
    /// <param name="end">Last byte, exclusive.</param>
    public static void RunScalar(byte** inputs, int inputCount, byte** outputs, int outputCount, ReadOnlySpan<byte> coefficients, nuint start, nuint end)
    {
        for (var o = 0; o < outputCount; o++)
        {
            var output = outputs[o];
            for (var b = start; b < end; b++)
                output[b] = 0;
            for (var i = 0; i < inputCount; i++)
            {
                var products = GaloisField.ProductsOf(coefficients[(o * inputCount) + i]);
                var input = inputs[i];
                for (var b = start; b < end; b++)
                    output[b] ^= products[input[b]];
            }
        }
    }
}
