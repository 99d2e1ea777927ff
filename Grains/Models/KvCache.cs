using static TorchSharp.torch;

namespace PoolAI.Models;

/// <summary>
/// Keys and values of every attention layer for the positions already processed, preallocated to the
/// block size: per layer two tensors of shape <c>[batch, heads, block, head_size]</c>. Generation
/// feeds the prompt once, then one token per step, so each step costs one position, not the whole
/// sequence.
/// </summary>
public sealed class KvCache : IDisposable
{
    private readonly LayerCache[] _layers;

    internal KvCache(int layers, int batch, int heads, int blockSize, int headSize, Device device)
    {
        Capacity = blockSize;
        _layers = Enumerable.Range(0, layers).Select(_ => new LayerCache(
            zeros(batch, heads, blockSize, headSize, device: device),
            zeros(batch, heads, blockSize, headSize, device: device))).ToArray();
    }

    /// <summary>Positions filled.</summary>
    public int Length { get; private set; }

    /// <summary>Positions it can hold (the model's block size).</summary>
    public int Capacity { get; }

    /// <summary>Forgets every position (the buffers are kept).</summary>
    public void Reset() => Length = 0;

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
    }
}
