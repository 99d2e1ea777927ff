using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace PoolAI.Decoding;

/// <summary>
/// The native CPU decoder: a GPT's inference forward pass in C# over <see cref="DecoderWeights"/>, with its
/// own key/value cache of <see cref="Rows"/> sequences (row r of the cache holds one sequence). A pass takes any set of
/// activation rows, each a token at a position of a cache row, and attends each to its own cache row's positions
/// 0 … position only: a prefill is the prompt's tokens as rows of one cache row at positions 0 … T − 1 (causal), a
/// decoding step is one row per sequence at its own position.
/// <para>
/// Exact by construction: every number a row produces is computed by the same fixed sequence of once-rounded float
/// operations whatever the other rows of the pass, their count, the kernel tile it falls in or the vector width (see
/// <see cref="Kernels"/>), and the transcendental functions are this project's own (<see cref="DecoderMath"/>). So a
/// sequence's logits are bit for bit the same alone or in any batch, in a prefill or step by step, and on any CPU whose
/// float arithmetic is IEEE 754 (x64 with AVX-512, AVX2 or SSE; Arm64). It is not bit-identical to PyTorch (libtorch
/// sums in other orders): the tests hold its logits within 1e-4 of TorchSharp's for the same weights and tokens.
/// </para>
/// Not thread-safe: one thread drives it.
/// </summary>
public sealed unsafe class NativeDecoder : IDecoder, IDisposable
{
    /// <summary>
    /// This decoder's arithmetic version (<see cref="IDecoder.Version"/>). Any change that could change one bit of a
    /// logit must change it, since results cached under it are served as what the decoder would produce.
    /// </summary>
    public const string ArithmeticVersion = "native-fma-1";

    private readonly DecoderWeights _weights;
    private readonly int _headSize;
    private readonly int _keyStride;
    private readonly int _activationRows;
    private readonly int _qkvStride;
    private readonly int _mlpStride;
    private readonly float _scale;
    private readonly AlignedFloats[] _keys;
    private readonly AlignedFloats[] _values;
    private readonly AlignedFloats _x;
    private readonly AlignedFloats _normalised;
    private readonly AlignedFloats _qkv;
    private readonly AlignedFloats _attention;
    private readonly AlignedFloats _projected;
    private readonly AlignedFloats _mlp;
    private readonly AlignedFloats _logits;
    private readonly AlignedFloats[] _scores;
    private readonly WorkerGang? _gang;
    private object? _work;
    private readonly int[] _prefillRows;
    private readonly int[] _prefillPositions;

    /// <summary>Makes a decoder of <paramref name="rows"/> sequences over <paramref name="weights"/>, with an empty cache.</summary>
    /// <param name="weights">The model (shared: decoders only read it).</param>
    /// <param name="rows">Cache rows, that is sequences it holds at once; at least 1.</param>
    /// <param name="lanes">Kernel vector width; every width gives the same bits.</param>
    /// <param name="threads">
    /// Threads a pass runs on: the caller and <c>threads − 1</c> helpers, sharing each matrix product by output panels and
    /// the attention by rows and heads; every thread count gives the same bits.
    /// </param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="rows"/> or <paramref name="threads"/> is not positive, or <paramref name="lanes"/> is not a width.</exception>
    public NativeDecoder(DecoderWeights weights, int rows, DecoderLanes lanes = DecoderLanes.Auto, int threads = 1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(rows, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        if (!Enum.IsDefined(lanes))
            throw new ArgumentOutOfRangeException(nameof(lanes), lanes, "not a vector width");
        _weights = weights;
        Rows = rows;
        Lanes = lanes == DecoderLanes.Auto ? Widest() : lanes;
        _headSize = weights.Embedding / weights.Heads;
        _keyStride = DecoderWeights.Pad(weights.BlockSize);
        _scale = (float)(1.0 / Math.Sqrt(_headSize));
        _activationRows = Math.Max(rows, weights.BlockSize);
        _qkvStride = weights.Layers[0].Attention.OutStride;
        _mlpStride = weights.Layers[0].Mlp.OutStride;
        _keys = weights.Layers.Select(_ => new AlignedFloats(rows * weights.Heads * _headSize * _keyStride)).ToArray();
        _values = weights.Layers.Select(_ => new AlignedFloats(rows * weights.Heads * weights.BlockSize * _headSize)).ToArray();
        var stride = weights.EmbeddingStride;
        _x = new AlignedFloats(_activationRows * stride);
        _normalised = new AlignedFloats(_activationRows * stride);
        _qkv = new AlignedFloats(_activationRows * _qkvStride);
        _attention = new AlignedFloats(_activationRows * stride);
        _projected = new AlignedFloats(_activationRows * stride);
        _mlp = new AlignedFloats(_activationRows * _mlpStride);
        _logits = new AlignedFloats(_activationRows * weights.Head.OutStride);
        _scores = Enumerable.Range(0, threads).Select(_ => new AlignedFloats(_keyStride)).ToArray();
        _gang = threads > 1 ? new WorkerGang(threads) : null;
        _prefillRows = new int[weights.BlockSize];
        _prefillPositions = Enumerable.Range(0, weights.BlockSize).ToArray();
    }

    /// <summary>The model.</summary>
    public DecoderWeights Weights => _weights;

    /// <summary>Sequences the cache holds.</summary>
    public int Rows { get; }

    /// <summary>The kernel width in use (never <see cref="DecoderLanes.Auto"/>).</summary>
    public DecoderLanes Lanes { get; }

    /// <summary>Threads a pass runs on.</summary>
    public int Threads => _gang?.Threads ?? 1;

    /// <inheritdoc />
    public string Version => ArithmeticVersion;

    /// <summary>
    /// Fills cache row <paramref name="row"/> with <paramref name="tokens"/> at positions 0 … T − 1 (forgetting what it
    /// held) and writes logits: <c>[T, vocab]</c> for every position, or <c>[vocab]</c> for the last only.
    /// </summary>
    /// <param name="row">Cache row, 0 ≤ row &lt; <see cref="Rows"/>.</param>
    /// <param name="tokens"><c>[T]</c> token ids, 1 ≤ T ≤ block size.</param>
    /// <param name="logits"><c>[T, vocab]</c> or <c>[vocab]</c>.</param>
    /// <exception cref="ArgumentException">A size, row or token id out of range.</exception>
    public void Prefill(int row, ReadOnlySpan<int> tokens, Span<float> logits)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(row);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(row, Rows);
        var count = tokens.Length;
        if (count < 1 || count > _weights.BlockSize)
            throw new ArgumentException($"a prefill takes 1 to {_weights.BlockSize} tokens; got {count}", nameof(tokens));
        var vocab = _weights.VocabSize;
        var all = logits.Length == count * vocab;
        if (!all && logits.Length != vocab)
            throw new ArgumentException($"logits must hold [{count}, {vocab}] or [{vocab}] floats; got {logits.Length}", nameof(logits));
        CheckTokens(tokens);
        Array.Fill(_prefillRows, row, 0, count);
        Run(tokens, _prefillRows.AsSpan(0, count), _prefillPositions.AsSpan(0, count), all ? 0 : count - 1, logits);
    }

    /// <summary>
    /// One decoding step of several sequences: activation i is token <c>tokens[i]</c> at position <c>positions[i]</c> of
    /// cache row <c>rows[i]</c>; its key and value are stored there and it attends to that row's positions
    /// 0 … <c>positions[i]</c>. Writes <c>[n, vocab]</c> logits, row i for activation i.
    /// </summary>
    /// <param name="rows"><c>[n]</c> cache rows, each in [0, <see cref="Rows"/>); n ≤ <see cref="Rows"/>.</param>
    /// <param name="tokens"><c>[n]</c> token ids.</param>
    /// <param name="positions"><c>[n]</c> positions, each in [0, block size).</param>
    /// <param name="logits"><c>[n, vocab]</c>.</param>
    /// <exception cref="ArgumentException">Lengths differ, or a row, position or token id is out of range.</exception>
    public void Decode(ReadOnlySpan<int> rows, ReadOnlySpan<int> tokens, ReadOnlySpan<int> positions, Span<float> logits)
    {
        var count = rows.Length;
        if (tokens.Length != count || positions.Length != count || count > Rows)
            throw new ArgumentException($"rows, tokens and positions must have the same length, at most {Rows}; got {count}, {tokens.Length}, {positions.Length}");
        if (logits.Length != count * _weights.VocabSize)
            throw new ArgumentException($"logits must hold [{count}, {_weights.VocabSize}] floats; got {logits.Length}", nameof(logits));
        CheckTokens(tokens);
        foreach (var row in rows)
        {
            if ((uint)row >= (uint)Rows)
                throw new ArgumentOutOfRangeException(nameof(rows), row, $"cache rows are 0 to {Rows - 1}");
        }

        foreach (var position in positions)
        {
            if ((uint)position >= (uint)_weights.BlockSize)
                throw new ArgumentOutOfRangeException(nameof(positions), position, $"positions are 0 to {_weights.BlockSize - 1}");
        }

        if (count > 0)
            Run(tokens, rows, positions, 0, logits);
    }

    /// <summary>Copies every layer's keys and values of cache row <paramref name="from"/> into row <paramref name="to"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">No such row.</exception>
    public void CopyRow(int from, int to)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(from);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(from, Rows);
        ArgumentOutOfRangeException.ThrowIfNegative(to);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(to, Rows);
        foreach (var layer in _keys.Concat(_values))
        {
            var size = layer.Length / Rows;
            layer.Span.Slice(from * size, size).CopyTo(layer.Span.Slice(to * size, size));
        }
    }

    /// <summary>Stops the helper threads, if any.</summary>
    public void Dispose() => _gang?.Dispose();

    private static DecoderLanes Widest() =>
        Vector512.IsHardwareAccelerated ? DecoderLanes.Sixteen
        : Vector256.IsHardwareAccelerated ? DecoderLanes.Eight
        : Vector128.IsHardwareAccelerated ? DecoderLanes.Four
        : DecoderLanes.One;

    private void CheckTokens(ReadOnlySpan<int> tokens)
    {
        foreach (var token in tokens)
        {
            if ((uint)token >= (uint)_weights.VocabSize)
                throw new ArgumentOutOfRangeException(nameof(tokens), token, $"token ids are 0 to {_weights.VocabSize - 1}");
        }
    }

    private void Run(ReadOnlySpan<int> tokens, ReadOnlySpan<int> rows, ReadOnlySpan<int> positions, int firstLogits, Span<float> logits)
    {
        fixed (int* tokenIds = tokens, cacheRows = rows, at = positions)
        {
            var pass = new Pass(tokens.Length, tokenIds, cacheRows, at, firstLogits);
            switch (Lanes)
            {
                case DecoderLanes.Sixteen:
                    Forward<Lanes16>(pass);
                    break;
                case DecoderLanes.Eight:
                    Forward<Lanes8>(pass);
                    break;
                case DecoderLanes.Four:
                    Forward<Lanes4>(pass);
                    break;
                default:
                    Forward<Lanes1>(pass);
                    break;
            }
        }

        var vocab = _weights.VocabSize;
        var stride = _weights.Head.OutStride;
        for (var r = 0; r < tokens.Length - firstLogits; r++)
            new ReadOnlySpan<float>(_logits.Pointer + r * stride, vocab).CopyTo(logits.Slice(r * vocab, vocab));
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Forward<T>(Pass pass)
        where T : struct, ILanes<T>
    {
        var embedding = _weights.Embedding;
        var stride = _weights.EmbeddingStride;
        var count = pass.Count;
        var x = _x.Pointer;
        var normalised = _normalised.Pointer;
        for (var a = 0; a < count; a++)
            Kernels.Sum<T>(x + a * stride, _weights.TokenEmbedding.Pointer + pass.Tokens[a] * stride, _weights.PositionEmbedding.Pointer + pass.Positions[a] * stride, stride);

        for (var l = 0; l < _weights.Layers.Length; l++)
        {
            var layer = _weights.Layers[l];
            for (var a = 0; a < count; a++)
                Kernels.LayerNorm<T>(x + a * stride, normalised + a * stride, embedding, layer.AttentionNorm);
            MatMul<T>(normalised, stride, count, layer.Attention, _qkv.Pointer, _qkvStride);
            Store(l, pass);
            Attend<T>(l, pass);
            MatMul<T>(_attention.Pointer, stride, count, layer.AttentionProjection, _projected.Pointer, stride);
            Kernels.Add<T>(x, _projected.Pointer, count * stride);

            for (var a = 0; a < count; a++)
                Kernels.LayerNorm<T>(x + a * stride, normalised + a * stride, embedding, layer.MlpNorm);
            MatMul<T>(normalised, stride, count, layer.Mlp, _mlp.Pointer, _mlpStride);
            Kernels.Gelu<T>(_mlp.Pointer, count * _mlpStride);
            MatMul<T>(_mlp.Pointer, _mlpStride, count, layer.MlpProjection, _projected.Pointer, stride);
            Kernels.Add<T>(x, _projected.Pointer, count * stride);
        }

        for (var a = pass.FirstLogits; a < count; a++)
            Kernels.LayerNorm<T>(x + a * stride, normalised + a * stride, embedding, _weights.FinalNorm);
        MatMul<T>(normalised + pass.FirstLogits * stride, stride, count - pass.FirstLogits, _weights.Head, _logits.Pointer, _weights.Head.OutStride);
    }

    /// <summary>Writes each activation's key (transposed: <c>[heads, head_size, block]</c> per cache row) and value (<c>[heads, block, head_size]</c>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Store(int layer, Pass pass)
    {
        var keys = _keys[layer].Pointer;
        var values = _values[layer].Pointer;
        for (var a = 0; a < pass.Count; a++)
        {
            var key = _qkv.Pointer + a * _qkvStride + _weights.Embedding;
            var value = key + _weights.Embedding;
            var position = pass.Positions[a];
            for (var h = 0; h < _weights.Heads; h++)
            {
                var head = pass.Rows[a] * _weights.Heads + h;
                var keyColumn = keys + head * _headSize * _keyStride + position;
                for (var d = 0; d < _headSize; d++)
                    keyColumn[d * _keyStride] = key[h * _headSize + d];
                new ReadOnlySpan<float>(value + h * _headSize, _headSize).CopyTo(new Span<float>(values + (head * _weights.BlockSize + position) * _headSize, _headSize));
            }
        }
    }

    private void MatMul<T>(float* x, int xStride, int rows, DecoderWeights.Linear layer, float* y, int yStride)
        where T : struct, ILanes<T>
    {
        if (_gang is null)
        {
            Kernels.MatMul<T>(x, xStride, rows, layer, y, yStride, 0, Kernels.Panels(layer));
            return;
        }

        var work = Work<T>();
        work.Set(x, xStride, rows, layer, y, yStride);
        _gang.Run(work);
    }

    private void Attend<T>(int layer, Pass pass)
        where T : struct, ILanes<T>
    {
        if (_gang is null)
        {
            Attend<T>(layer, pass, 0, pass.Count * _weights.Heads, _scores[0].Pointer);
            return;
        }

        var work = Work<T>();
        work.Set(layer, pass);
        _gang.Run(work);
    }

    /// <summary>Attention of the (activation, head) pairs <paramref name="first"/> … <paramref name="end"/> − 1 (activation-major).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Attend<T>(int layer, Pass pass, int first, int end, float* scores)
        where T : struct, ILanes<T>
    {
        var heads = _weights.Heads;
        var keys = _keys[layer].Pointer;
        var values = _values[layer].Pointer;
        for (var i = first; i < end; i++)
        {
            var (a, h) = (i / heads, i % heads);
            var head = pass.Rows[a] * heads + h;
            Kernels.Attend<T>(
                _qkv.Pointer + a * _qkvStride + h * _headSize,
                keys + head * _headSize * _keyStride,
                _keyStride,
                values + head * _weights.BlockSize * _headSize,
                _headSize,
                pass.Positions[a],
                _scale,
                scores,
                _attention.Pointer + a * _weights.EmbeddingStride + h * _headSize);
        }
    }

    private PassWork<T> Work<T>()
        where T : struct, ILanes<T> =>
        (PassWork<T>)(_work ??= new PassWork<T>(this));

    /// <summary>The decoder's parallel pieces: a matrix product split by output panels, or attention split by (row, head).</summary>
    private sealed class PassWork<T>(NativeDecoder decoder) : IParallelWork
        where T : struct, ILanes<T>
    {
        private bool _attention;
        private float* _x;
        private int _xStride;
        private int _rows;
        private DecoderWeights.Linear? _layer;
        private float* _y;
        private int _yStride;
        private int _layerIndex;
        private Pass _pass;

        public void Set(float* x, int xStride, int rows, DecoderWeights.Linear layer, float* y, int yStride)
        {
            _attention = false;
            _x = x;
            _xStride = xStride;
            _rows = rows;
            _layer = layer;
            _y = y;
            _yStride = yStride;
        }

        public void Set(int layer, Pass pass) => (_attention, _layerIndex, _pass) = (true, layer, pass);

        public void Run(int part, int parts)
        {
            if (_attention)
            {
                var pairs = _pass.Count * decoder._weights.Heads;
                decoder.Attend<T>(_layerIndex, _pass, pairs * part / parts, pairs * (part + 1) / parts, decoder._scores[part].Pointer);
                return;
            }

            var panels = Kernels.Panels(_layer!);
            Kernels.MatMul<T>(_x, _xStride, _rows, _layer!, _y, _yStride, panels * part / parts, panels * (part + 1) / parts);
        }
    }

    /// <summary>One forward pass's activations: <c>[Count]</c> token ids, cache rows and positions; logits are wanted for activations FirstLogits … Count − 1.</summary>
    private readonly struct Pass(int count, int* tokens, int* rows, int* positions, int firstLogits)
    {
        public int Count { get; } = count;

        public int* Tokens { get; } = tokens;

        public int* Rows { get; } = rows;

        public int* Positions { get; } = positions;

        public int FirstLogits { get; } = firstLogits;
    }
}
