using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace PoolAI.Models;

/// <summary>
/// Decoder-only transformer (GPT-2 layout, following nanoGPT's <c>model.py</c>): token and position
/// embeddings, pre-norm blocks of causal self-attention and MLP with residual connections, a final
/// layer norm, and an output projection tied to the token embedding.
/// </summary>
public sealed class Gpt : nn.Module<Tensor, Tensor>
{
    private readonly Embedding _tokenEmbedding;
    private readonly Embedding _positionEmbedding;
    private readonly Dropout _dropout;
    private readonly ModuleList<GptBlock> _blocks;
    private readonly LayerNorm _finalNorm;

    /// <summary>Creates the model with nanoGPT's initialisation (normal 0.02; residual projections scaled by 1/√(2·layers), GPT-2 paper §2.3).</summary>
    public Gpt(GptConfig config, long seed = 1337)
        : base("gpt")
    {
        config.Validate();
        Config = config;
        torch.random.manual_seed(seed);
        _tokenEmbedding = nn.Embedding(config.VocabSize, config.Embedding);
        _positionEmbedding = nn.Embedding(config.BlockSize, config.Embedding);
        _dropout = nn.Dropout(config.Dropout);
        _blocks = new ModuleList<GptBlock>(Enumerable.Range(0, config.Layers).Select(i => new GptBlock(config, i)).ToArray());
        _finalNorm = nn.LayerNorm(config.Embedding, elementwise_affine: true, bias: config.Bias);
        RegisterComponents();
        Initialise();
    }

    /// <summary>The architecture.</summary>
    public GptConfig Config { get; }

    /// <summary>Number of weights (the position embedding included).</summary>
    public long ParameterCount => parameters().Sum(p => p.numel());

    internal Embedding TokenEmbedding => _tokenEmbedding;

    internal Embedding PositionEmbedding => _positionEmbedding;

    internal IList<GptBlock> Blocks => _blocks;

    internal LayerNorm FinalNorm => _finalNorm;

    /// <summary>Training forward pass: <c>[batch, seq]</c> token ids → <c>[batch, seq, vocab]</c> logits.</summary>
    /// <exception cref="ArgumentException">The sequence is longer than the block size.</exception>
    public override Tensor forward(Tensor tokens) => Forward(tokens, cache: null);

    /// <summary>
    /// Forward pass that reads and extends a key/value cache: <c>[batch, seq]</c> token ids at
    /// positions <c>cache.Length … cache.Length + seq - 1</c> → <c>[batch, seq, vocab]</c> logits.
    /// With a null cache this is the plain causal forward pass.
    /// </summary>
    /// <exception cref="ArgumentException">Positions would pass the block size.</exception>
    public Tensor Forward(Tensor tokens, KvCache? cache)
    {
        var length = (int)tokens.shape[1];
        var start = cache?.Length ?? 0;
        if (start + length > Config.BlockSize)
            throw new ArgumentException($"positions {start}..{start + length - 1} pass the block size {Config.BlockSize}");
        using var positions = torch.arange(start, start + length, dtype: int64, device: tokens.device);
        var x = _dropout.forward(_tokenEmbedding.forward(tokens) + _positionEmbedding.forward(positions));
        for (var i = 0; i < _blocks.Count; i++)
            x = _blocks[i].Forward(x, cache?.Layer(i), start);
        cache?.Advance(length);
        x = _finalNorm.forward(x);
        return F.linear(x, _tokenEmbedding.weight!);
    }

    /// <summary>
    /// One decoding step for several sequences at once (inference only; no dropout): <c>[rows]</c> token ids, where
    /// row r is the next token of the sequence held in row r of <paramref name="cache"/>, at position
    /// <c>positions[r]</c> (<c>[rows]</c>, int64: that sequence's length so far) → <c>[rows, vocab]</c> logits. Each row's
    /// keys and values are stored at its position and each row attends to its own positions <c>0 … positions[r]</c>
    /// only, so sequences of different lengths share the pass. Unlike <see cref="Forward"/> it does not advance the cache.
    /// </summary>
    /// <remarks>
    /// Attention is written out (scores, mask, softmax, weighted sum) over the whole block rather than through
    /// <c>scaled_dot_product_attention</c>: measured on libtorch 2.10 (CPU), the fused kernel gives a row results that
    /// differ in the last bits with the number of rows beside it; the written-out products do not. The linear layers do
    /// for some row counts (rows in a partial 4-row panel of the matrix product are summed differently), which is why
    /// callers that need a row to come out the same in any batch pad the row count (see <see cref="TorchDecoder"/>).
    /// </remarks>
    /// <exception cref="ArgumentException">More rows than the cache holds.</exception>
    /// <exception cref="System.Runtime.InteropServices.ExternalException">A position outside the block (libtorch's index check).</exception>
    public Tensor Decode(Tensor tokens, Tensor positions, KvCache cache)
    {
        var rows = tokens.shape[0];
        if (rows > cache.Batch)
            throw new ArgumentException($"{rows} rows do not fit a cache of {cache.Batch}", nameof(tokens));
        using var scope = torch.NewDisposeScope();
        var rowIndex = torch.arange(rows, dtype: int64, device: tokens.device);
        var hidden = (torch.arange(Config.BlockSize, dtype: int64, device: tokens.device).unsqueeze(0) > positions.unsqueeze(1)).view(rows, 1, 1, Config.BlockSize);
        var x = (_tokenEmbedding.forward(tokens) + _positionEmbedding.forward(positions)).unsqueeze(1);
        for (var i = 0; i < _blocks.Count; i++)
            x = _blocks[i].Decode(x, cache.Layer(i), rowIndex, positions, hidden);
        x = _finalNorm.forward(x);
        return F.linear(x, _tokenEmbedding.weight!).squeeze(1).MoveToOuterDisposeScope();
    }

    /// <summary>A key/value cache sized for this model: <paramref name="batch"/> sequences of up to the block size.</summary>
    public KvCache CreateCache(int batch = 1) =>
        new(Config.Layers, batch, Config.Heads, Config.BlockSize, Config.Embedding / Config.Heads, _tokenEmbedding.weight!.device);

    private void Initialise()
    {
        using var _ = torch.no_grad();
        foreach (var (name, module) in named_modules())
        {
            switch (module)
            {
                case Linear linear:
                    var std = name.EndsWith("Projection", StringComparison.Ordinal) ? 0.02 / Math.Sqrt(2.0 * Config.Layers) : 0.02;
                    nn.init.normal_(linear.weight!, 0.0, std);
                    if (linear.bias is { } bias)
                        nn.init.zeros_(bias);
                    break;
                case Embedding embedding:
                    nn.init.normal_(embedding.weight!, 0.0, 0.02);
                    break;
            }
        }
    }
}

/// <summary>One pre-norm transformer block: <c>x + attn(ln(x))</c>, then <c>x + mlp(ln(x))</c>.</summary>
internal sealed class GptBlock : nn.Module
{
    private readonly LayerNorm _attentionNorm;
    private readonly Linear _attention;
    private readonly Linear _attentionProjection;
    private readonly Dropout _attentionDropout;
    private readonly LayerNorm _mlpNorm;
    private readonly Linear _mlp;
    private readonly Linear _mlpProjection;
    private readonly Dropout _mlpDropout;
    private readonly int _heads;
    private readonly int _embedding;
    private readonly double _dropoutP;

    public GptBlock(GptConfig config, int index)
        : base($"block{index}")
    {
        _heads = config.Heads;
        _embedding = config.Embedding;
        _dropoutP = config.Dropout;
        _attentionNorm = nn.LayerNorm(config.Embedding, elementwise_affine: true, bias: config.Bias);
        _attention = nn.Linear(config.Embedding, 3 * config.Embedding, hasBias: config.Bias);
        _attentionProjection = nn.Linear(config.Embedding, config.Embedding, hasBias: config.Bias);
        _attentionDropout = nn.Dropout(config.Dropout);
        _mlpNorm = nn.LayerNorm(config.Embedding, elementwise_affine: true, bias: config.Bias);
        _mlp = nn.Linear(config.Embedding, 4 * config.Embedding, hasBias: config.Bias);
        _mlpProjection = nn.Linear(4 * config.Embedding, config.Embedding, hasBias: config.Bias);
        _mlpDropout = nn.Dropout(config.Dropout);
        RegisterComponents();
    }

    internal LayerNorm AttentionNorm => _attentionNorm;

    internal Linear Attention => _attention;

    internal Linear AttentionProjection => _attentionProjection;

    internal LayerNorm MlpNorm => _mlpNorm;

    internal Linear Mlp => _mlp;

    internal Linear MlpProjection => _mlpProjection;

    /// <summary><c>[batch, seq, embd]</c> → <c>[batch, seq, embd]</c>; with a cache, keys and values are appended at <paramref name="start"/>.</summary>
    public Tensor Forward(Tensor x, KvCache.LayerCache? cache, int start)
    {
        x = x + Attend(_attentionNorm.forward(x), cache, start);
        var hidden = F.gelu(_mlp.forward(_mlpNorm.forward(x)));
        return x + _mlpDropout.forward(_mlpProjection.forward(hidden));
    }

    /// <summary>
    /// One decoding step of <see cref="Gpt.Decode"/>: <c>[rows, 1, embd]</c> → <c>[rows, 1, embd]</c>; row r's keys and values go to
    /// <c>positions[r]</c> of its cache row, and <paramref name="hidden"/> (<c>[rows, 1, 1, block]</c>, true past each row's position)
    /// masks what it must not see.
    /// </summary>
    public Tensor Decode(Tensor x, KvCache.LayerCache cache, Tensor rows, Tensor positions, Tensor hidden)
    {
        x = x + _attentionProjection.forward(AttendOnePosition(_attentionNorm.forward(x), cache, rows, positions, hidden));
        var mlp = F.gelu(_mlp.forward(_mlpNorm.forward(x)));
        return x + _mlpProjection.forward(mlp);
    }

    private Tensor AttendOnePosition(Tensor x, KvCache.LayerCache cache, Tensor rows, Tensor positions, Tensor hidden)
    {
        var batch = x.shape[0];
        var headSize = _embedding / _heads;
        var qkv = _attention.forward(x).split(_embedding, dim: 2);
        Tensor Heads(Tensor t) => t.view(batch, 1, _heads, headSize).transpose(1, 2);
        var (keys, values) = cache.Store(Heads(qkv[1]), Heads(qkv[2]), rows, positions);
        var scores = Heads(qkv[0]).matmul(keys.transpose(-2, -1)).mul(1.0 / Math.Sqrt(headSize));
        var y = scores.masked_fill(hidden, float.NegativeInfinity).softmax(-1).matmul(values);
        return y.transpose(1, 2).contiguous().view(batch, 1, _embedding);
    }

    private Tensor Attend(Tensor x, KvCache.LayerCache? cache, int start)
    {
        var batch = x.shape[0];
        var length = x.shape[1];
        var headSize = _embedding / _heads;
        var qkv = _attention.forward(x).split(_embedding, dim: 2);
        Tensor Heads(Tensor t) => t.view(batch, length, _heads, headSize).transpose(1, 2);
        var q = Heads(qkv[0]);
        var k = Heads(qkv[1]);
        var v = Heads(qkv[2]);
        bool causal;
        if (cache is null)
        {
            causal = true;
        }
        else
        {
            (k, v) = cache.Append(k, v, start);
            // A prefill attends causally within itself; a one-token step attends to every cached position.
            causal = length > 1;
            if (causal && start > 0)
                throw new ArgumentException("a multi-token step must start from an empty cache");
        }

        var dropout = training ? _dropoutP : 0.0;
        var y = F.scaled_dot_product_attention(q, k, v, p: dropout, is_casual: causal);
        y = y.transpose(1, 2).contiguous().view(batch, length, _embedding);
        return _attentionDropout.forward(_attentionProjection.forward(y));
    }
}
