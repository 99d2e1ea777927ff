namespace PoolAI.Decoding;

/// <summary>
/// A decoder-only transformer's weights (GPT-2 layout, as nanoGPT's <c>model.py</c>: token and position embeddings,
/// pre-norm blocks, a final layer norm, the output head tied to the token embedding) copied once into the
/// <see cref="NativeDecoder"/>'s layout, float32: every linear layer's <c>[out, in]</c> matrix transposed to
/// <c>[in, out]</c>, its output columns padded with zeros to a multiple of 16 and cut into panels of 64 columns
/// (<c>[panels][in][64]</c>), so a matrix product reads each panel front to back. Immutable; decoders share it.
/// </summary>
public sealed class DecoderWeights
{
    /// <summary>Columns of one weight panel; the widest kernel tile (4 × 16 lanes).</summary>
    internal const int PanelWidth = 64;

    /// <summary>Output widths and the key cache's block axis are padded to a multiple of this (one 16-lane vector).</summary>
    internal const int Padding = 16;

    /// <summary>torch.nn.LayerNorm's default ε.</summary>
    internal const float NormEpsilon = 1e-5f;

    /// <summary>Copies and checks the weights.</summary>
    /// <param name="heads">Attention heads; must divide the embedding width.</param>
    /// <param name="tokenEmbedding"><c>[vocab, embd]</c>; also the output head.</param>
    /// <param name="positionEmbedding"><c>[block, embd]</c>.</param>
    /// <param name="blocks">The transformer blocks, first to last; at least one.</param>
    /// <param name="finalNorm">The layer norm before the output head.</param>
    /// <exception cref="ArgumentException">A shape does not fit the others.</exception>
    public DecoderWeights(int heads, Matrix tokenEmbedding, Matrix positionEmbedding, IReadOnlyList<BlockWeights> blocks, NormWeights finalNorm)
    {
        tokenEmbedding.Validate(nameof(tokenEmbedding));
        positionEmbedding.Validate(nameof(positionEmbedding));
        var embedding = tokenEmbedding.Columns;
        if (heads < 1 || embedding % heads != 0)
            throw new ArgumentException($"{heads} heads do not divide the embedding width {embedding}", nameof(heads));
        if (positionEmbedding.Columns != embedding)
            throw new ArgumentException($"the position embedding is {positionEmbedding.Columns} wide, the token embedding {embedding}", nameof(positionEmbedding));
        if (blocks.Count == 0)
            throw new ArgumentException("a model has at least one block", nameof(blocks));
        VocabSize = tokenEmbedding.Rows;
        BlockSize = positionEmbedding.Rows;
        Heads = heads;
        Embedding = embedding;
        EmbeddingStride = Pad(embedding);
        TokenEmbedding = Rows(tokenEmbedding, EmbeddingStride);
        PositionEmbedding = Rows(positionEmbedding, EmbeddingStride);
        var hidden = blocks[0].Mlp.Weight.Rows;
        Layers = blocks.Select((block, i) => new LayerWeights(
            Norm.From(block.AttentionNorm, embedding, $"blocks[{i}].AttentionNorm"),
            Linear.From(block.Attention, 3 * embedding, embedding, $"blocks[{i}].Attention"),
            Linear.From(block.AttentionProjection, embedding, embedding, $"blocks[{i}].AttentionProjection"),
            Norm.From(block.MlpNorm, embedding, $"blocks[{i}].MlpNorm"),
            Linear.From(block.Mlp, hidden, embedding, $"blocks[{i}].Mlp"),
            Linear.From(block.MlpProjection, embedding, hidden, $"blocks[{i}].MlpProjection"))).ToArray();
        FinalNorm = Norm.From(finalNorm, embedding, nameof(finalNorm));
        Head = Linear.From(new LinearWeights(tokenEmbedding), VocabSize, embedding, nameof(tokenEmbedding));
    }

    /// <summary>Tokens in the vocabulary.</summary>
    public int VocabSize { get; }

    /// <summary>Longest context, in tokens.</summary>
    public int BlockSize { get; }

    /// <summary>Attention heads per block.</summary>
    public int Heads { get; }

    /// <summary>Width of the residual stream.</summary>
    public int Embedding { get; }

    /// <summary>Transformer blocks.</summary>
    public int LayerCount => Layers.Length;

    /// <summary>Floats between rows of a <c>[rows, embd]</c> activation (the embedding width padded to 16).</summary>
    internal int EmbeddingStride { get; }

    /// <summary><c>[vocab, embd]</c> token embedding, rows <see cref="EmbeddingStride"/> apart.</summary>
    internal AlignedFloats TokenEmbedding { get; }

    /// <summary><c>[block, embd]</c> position embedding, rows <see cref="EmbeddingStride"/> apart.</summary>
    internal AlignedFloats PositionEmbedding { get; }

    internal LayerWeights[] Layers { get; }

    internal Norm FinalNorm { get; }

    /// <summary>The tied output head: <c>[embd] → [vocab]</c> logits.</summary>
    internal Linear Head { get; }

    internal static int Pad(int width) => (width + Padding - 1) / Padding * Padding;

    private static AlignedFloats Rows(Matrix matrix, int stride)
    {
        var copy = new AlignedFloats(matrix.Rows * stride);
        for (var r = 0; r < matrix.Rows; r++)
            matrix.Values.AsSpan(r * matrix.Columns, matrix.Columns).CopyTo(copy.Span.Slice(r * stride, matrix.Columns));
        return copy;
    }

    private static AlignedFloats? Vector(float[]? vector, int length, string name)
    {
        if (vector is null)
            return null;
        if (vector.Length != length)
            throw new ArgumentException($"{name} must hold {length} floats; got {vector.Length}", name);
        var copy = new AlignedFloats(Pad(length));
        vector.CopyTo(copy.Span);
        return copy;
    }

    /// <summary>A layer norm's scale and optional shift, each <c>[embd]</c> (padded with zeros).</summary>
    internal sealed record Norm(AlignedFloats Scale, AlignedFloats? Shift)
    {
        public static Norm From(NormWeights norm, int width, string name) =>
            new(Vector(norm.Scale, width, name + ".Scale")!, Vector(norm.Shift, width, name + ".Shift"));
    }

    /// <summary>
    /// A linear layer <c>y = x·Wᵀ + b</c>: <see cref="Panels"/> holds Wᵀ (<c>[In, Out]</c>) cut into panels of
    /// <see cref="PanelWidth"/> columns (the last one narrower, still a multiple of 16), each <c>[In, width]</c> row-major;
    /// <see cref="Bias"/> is <c>[Out]</c> or null.
    /// </summary>
    internal sealed record Linear(int In, int Out, int OutStride, AlignedFloats Panels, AlignedFloats? Bias)
    {
        /// <summary>From a torch <c>[out, in]</c> weight and optional <c>[out]</c> bias.</summary>
        public static Linear From(LinearWeights layer, int outputs, int inputs, string name)
        {
            layer.Weight.Validate(name);
            if (layer.Weight.Rows != outputs || layer.Weight.Columns != inputs)
                throw new ArgumentException($"{name} must be [{outputs}, {inputs}]; got [{layer.Weight.Rows}, {layer.Weight.Columns}]", name);
            var stride = Pad(outputs);
            var source = layer.Weight.Values;
            var panels = new AlignedFloats(inputs * stride);
            var span = panels.Span;
            for (var start = 0; start < stride; start += PanelWidth)
            {
                var width = Math.Min(PanelWidth, stride - start);
                var panel = span.Slice(start * inputs, width * inputs);
                for (var i = 0; i < inputs; i++)
                {
                    for (var c = 0; c < width && start + c < outputs; c++)
                        panel[i * width + c] = source[(start + c) * inputs + i];
                }
            }

            return new Linear(inputs, outputs, stride, panels, Vector(layer.Bias, outputs, name + ".Bias"));
        }
    }

    /// <summary>One transformer block's weights.</summary>
    internal sealed record LayerWeights(Norm AttentionNorm, Linear Attention, Linear AttentionProjection, Norm MlpNorm, Linear Mlp, Linear MlpProjection);
}
