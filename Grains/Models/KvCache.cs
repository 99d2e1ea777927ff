using static TorchSharp.torch;

namespace PoolAI.Models;

/// <summary>
/// Keys and values of every attention layer for the positions already processed, preallocated to the
/// block size: per layer two tensors of shape <c>[batch, heads, block, head_size]</c>. Generation
/// feeds the prompt once, then one token per step, so each step costs one position, not the whole
/// sequence. With several rows, each row can hold its own sequence (<see cref="Row"/>), at its own length.
/// </summary>
public sealed class KvCache : IDisposable
{
    private readonly LayerCache[] _layers;

    internal KvCache(int layers, int batch, int heads, int blockSize, int headSize, Device device)
        : this(blockSize, batch, Enumerable.Range(0, layers).Select(_ => new LayerCache(
            zeros(batch, heads, blockSize, headSize, device: device),
            zeros(batch, heads, blockSize, headSize, device: device))).ToArray())
    {
    }

    private KvCache(int blockSize, int batch, LayerCache[] layers)
    {
        Capacity = blockSize;
        Batch = batch;
        _layers = layers;
    }

    /// <summary>Positions filled.</summary>
    public int Length { get; private set; }

    /// <summary>Positions it can hold (the model's block size).</summary>
    public int Capacity { get; }

    /// <summary>Rows (sequences) it holds.</summary>
    public int Batch { get; }

    /// <summary>Forgets every position (the buffers are kept).</summary>
    public void Reset() => Length = 0;

    /// <summary>
    /// An empty one-row cache over row <paramref name="row"/> of this one (the same memory, not a copy): a prefill
    /// through it fills that row only. Dispose it when done; this cache keeps the buffers.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">No such row.</exception>
    public KvCache Row(int row)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(row);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(row, Batch);
        return new KvCache(Capacity, 1, _layers.Select(l => new LayerCache(l.Keys.narrow(0, row, 1), l.Values.narrow(0, row, 1))).ToArray());
    }

    /// <summary>Copies every layer's keys and values of row <paramref name="from"/> into row <paramref name="to"/>.</summary>
    public void CopyRow(int from, int to)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        foreach (var layer in _layers)
        {
            layer.Keys[to].copy_(layer.Keys[from]);
            layer.Values[to].copy_(layer.Values[from]);
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var layer in _layers)
        {
            layer.Keys.Dispose();
            layer.Values.Dispose();
        }
    }

    internal LayerCache Layer(int index) => _layers[index];

    internal void Advance(int positions) => Length += positions;

    /// <summary>One layer's buffers.</summary>
    internal sealed record LayerCache(Tensor Keys, Tensor Values)
    {
        /// <summary>Writes <c>[batch, heads, seq, head_size]</c> keys and values at <paramref name="start"/>; returns views of all positions so far.</summary>
        public (Tensor Keys, Tensor Values) Append(Tensor keys, Tensor values, int start)
        {
            var length = (int)keys.shape[2];
            using (no_grad())
            {
                Keys.narrow(2, start, length).copy_(keys);
                Values.narrow(2, start, length).copy_(values);
            }

            return (Keys.narrow(2, 0, start + length), Values.narrow(2, 0, start + length));
        }

        /// <summary>
        /// Writes one position per row: <c>[rows, heads, 1, head_size]</c> keys and values of row r at
        /// <c>positions[r]</c>; returns views of rows <c>0 … rows - 1</c> over the whole block.
        /// </summary>
        public (Tensor Keys, Tensor Values) Store(Tensor keys, Tensor values, Tensor rows, Tensor positions)
        {
            var count = keys.shape[0];
            using (no_grad())
            {
                Keys.index_put_(keys.squeeze(2), TensorIndex.Tensor(rows), TensorIndex.Colon, TensorIndex.Tensor(positions));
                Values.index_put_(values.squeeze(2), TensorIndex.Tensor(rows), TensorIndex.Colon, TensorIndex.Tensor(positions));
            }

            return (Keys.narrow(0, 0, count), Values.narrow(0, 0, count));
        }
    }
}
