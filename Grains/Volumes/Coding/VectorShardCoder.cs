namespace PoolAI.Volumes.Coding;

/// <summary>
/// A SIMD coder over one <see cref="IGfVectorKernel{TVector}"/>. Outputs are split into groups of at most MaxGroup
/// that the kernel keeps in registers; when there is more than one group the shards are walked in column chunks small
/// enough that the chunk of every input stays in L2 while each group reads it (so input bytes come from memory once).
/// Shards shorter than one vector go byte by byte.
/// </summary>
internal sealed unsafe class VectorShardCoder<TKernel, TVector> : ShardCoder
    where TKernel : struct, IGfVectorKernel<TVector>
    where TVector : unmanaged
{
    // Bytes of all inputs' chunks that should stay in L2 (1 MiB or more per core on current x64) across output groups.
    private const int ChunkBudget = 256 * 1024;

    /// <inheritdoc />
    public override CodingTables Prepare(byte[] coefficients, int outputs, int inputs)
    {
        var bytes = TKernel.TableBytes;
        var expanded = GC.AllocateArray<byte>((outputs * inputs * bytes) + 63, pinned: true);
        int start;
        fixed (byte* address = expanded)
            start = (int)((64 - ((nuint)address % 64)) % 64);
        var groups = GroupCount(outputs);
        for (var g = 0; g < groups; g++)
        {
            var first = GroupStart(g, groups, outputs);
            var size = GroupStart(g + 1, groups, outputs) - first;
            for (var i = 0; i < inputs; i++)
                for (var o = 0; o < size; o++)
                    TKernel.Expand(coefficients[((first + o) * inputs) + i], expanded.AsSpan(start + (((first * inputs) + (i * size) + o) * bytes), bytes));
        }

        return new CodingTables(coefficients, outputs, inputs, expanded, start);
    }

    /// <inheritdoc />
    public override void Run(CodingTables tables, byte** inputs, byte** outputs, int length)
    {
        var width = (nuint)TKernel.Width;
        var total = (nuint)length;
        if (total < width)
        {
            DotProduct.RunScalar(inputs, tables.Inputs, outputs, tables.Outputs, tables.Coefficients, 0, total);
            return;
        }

        var groups = GroupCount(tables.Outputs);
        var chunk = groups == 1 ? total : (nuint)Math.Clamp(ChunkBudget / tables.Inputs / 64 * 64, 2048, 32768);
        fixed (byte* pinned = tables.Expanded)
        {
            var expanded = pinned + tables.ExpandedStart;
            for (nuint start = 0, end; start < total; start = end)
            {
                end = Math.Min(start + chunk, total);
                if (total - end < width)
                    end = total;
                for (var g = 0; g < groups; g++)
                {
                    var first = GroupStart(g, groups, tables.Outputs);
                    var size = GroupStart(g + 1, groups, tables.Outputs) - first;
                    RunGroup(size, inputs, tables.Inputs, outputs + first, expanded + (first * tables.Inputs * TKernel.TableBytes), start, end);
                }
            }
        }
    }

    private static int GroupCount(int outputs) => (outputs + TKernel.MaxGroup - 1) / TKernel.MaxGroup;

    // Balanced groups: sizes differ by at most one.
    private static int GroupStart(int group, int groups, int outputs) => group * outputs / groups;

    private static void RunGroup(int size, byte** inputs, int inputCount, byte** outputs, byte* tables, nuint start, nuint end)
    {
        switch (size)
        {
            case 1: DotProduct.Run<TKernel, TVector, Group1>(inputs, inputCount, outputs, tables, start, end); break;
            case 2: DotProduct.Run<TKernel, TVector, Group2>(inputs, inputCount, outputs, tables, start, end); break;
            case 3: DotProduct.Run<TKernel, TVector, Group3>(inputs, inputCount, outputs, tables, start, end); break;
            case 4: DotProduct.Run<TKernel, TVector, Group4>(inputs, inputCount, outputs, tables, start, end); break;
            case 5: DotProduct.Run<TKernel, TVector, Group5>(inputs, inputCount, outputs, tables, start, end); break;
            case 6: DotProduct.Run<TKernel, TVector, Group6>(inputs, inputCount, outputs, tables, start, end); break;
            case 7: DotProduct.Run<TKernel, TVector, Group7>(inputs, inputCount, outputs, tables, start, end); break;
            default: DotProduct.Run<TKernel, TVector, Group8>(inputs, inputCount, outputs, tables, start, end); break;
        }
    }
}
