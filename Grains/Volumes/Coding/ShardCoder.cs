namespace PoolAI.Volumes.Coding;

/// <summary>
/// Runs one <see cref="CodecPath"/>: expands a coefficient matrix into the tables its kernel reads, and computes
/// outputs[o] = XOR over i of c[o,i] · inputs[i] over whole shards. Stateless, so one instance serves any number of
/// threads at once.
/// </summary>
internal abstract unsafe class ShardCoder
{
    /// <summary>Prepares the <paramref name="outputs"/> × <paramref name="inputs"/> matrix c (row-major, output-major) for <see cref="Run(CodingTables, ReadOnlySpan{ReadOnlyMemory{byte}}, ReadOnlySpan{Memory{byte}})"/>.</summary>
    public abstract CodingTables Prepare(byte[] coefficients, int outputs, int inputs);

    /// <summary>
    /// Writes every output shard from the input shards (all of one length, outputs distinct from inputs), pinning them
    /// for the call.
    /// </summary>
    /// <param name="tables">From this coder's <see cref="Prepare"/>.</param>
    /// <param name="inputs">As many shards as the matrix has columns.</param>
    /// <param name="outputs">As many shards as the matrix has rows, overwritten.</param>
    public void Run(CodingTables tables, ReadOnlySpan<ReadOnlyMemory<byte>> inputs, ReadOnlySpan<Memory<byte>> outputs)
    {
        var length = inputs[0].Length;
        if (length == 0)
            return;
        var pins = new ShardPins(inputs.Length + outputs.Length);
        try
        {
            var inputPointers = stackalloc byte*[inputs.Length];
            var outputPointers = stackalloc byte*[outputs.Length];
            for (var i = 0; i < inputs.Length; i++)
                inputPointers[i] = pins.Pin(inputs[i]);
            for (var o = 0; o < outputs.Length; o++)
                outputPointers[o] = pins.Pin(outputs[o]);
            Run(tables, inputPointers, outputPointers, length);
        }
        finally
        {
            pins.Dispose();
        }
    }

    /// <summary>Writes every output shard: <paramref name="length"/> bytes at each of tables.Outputs pointers, from tables.Inputs input pointers.</summary>
    /// <param name="tables">From this coder's <see cref="Prepare"/>.</param>
    /// <param name="inputs">Pinned input shards, as many as the matrix has columns.</param>
    /// <param name="outputs">Pinned output shards, as many as the matrix has rows; distinct from the inputs.</param>
    /// <param name="length">Bytes per shard, ≥ 1.</param>
    public abstract void Run(CodingTables tables, byte** inputs, byte** outputs, int length);
}

/// <summary>A coefficient matrix ready for one <see cref="ShardCoder"/>. Immutable.</summary>
/// <param name="Coefficients">c[o,i], row-major, <paramref name="Outputs"/> × <paramref name="Inputs"/>.</param>
/// <param name="Outputs">Rows: output shards.</param>
/// <param name="Inputs">Columns: input shards.</param>
/// <param name="Expanded">The coder's kernel tables, on the pinned heap; empty for the scalar coder.</param>
/// <param name="ExpandedStart">Where in <paramref name="Expanded"/> the tables begin: the first 64-byte boundary, so no
/// vector load of a table straddles two cache lines (that halved the shuffle kernels' speed).</param>
internal sealed record CodingTables(byte[] Coefficients, int Outputs, int Inputs, byte[] Expanded, int ExpandedStart = 0);

/// <summary>The byte-at-a-time coder: <see cref="CodecPath.Scalar"/>.</summary>
internal sealed unsafe class ScalarShardCoder : ShardCoder
{
    /// <inheritdoc />
    public override CodingTables Prepare(byte[] coefficients, int outputs, int inputs) => new(coefficients, outputs, inputs, []);

    /// <inheritdoc />
    public override void Run(CodingTables tables, byte** inputs, byte** outputs, int length) =>
        DotProduct.RunScalar(inputs, tables.Inputs, outputs, tables.Outputs, tables.Coefficients, 0, (nuint)length);
}
