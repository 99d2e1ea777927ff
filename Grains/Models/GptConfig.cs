using System.Text.Json.Serialization;

namespace PoolAI.Models;

/// <summary>Architecture of a decoder-only transformer (GPT-2 layout, as in nanoGPT).</summary>
/// <param name="VocabSize">Tokens in the vocabulary.</param>
/// <param name="BlockSize">Longest context, in tokens (size of the position embedding).</param>
/// <param name="Layers">Transformer blocks.</param>
/// <param name="Heads">Attention heads per block; must divide <paramref name="Embedding"/>.</param>
/// <param name="Embedding">Width of the residual stream.</param>
/// <param name="Dropout">Dropout probability while training (0 to 1).</param>
/// <param name="Bias">Whether linear and layer-norm layers carry a bias.</param>
public sealed record GptConfig(
    [property: JsonPropertyName("vocab_size")] int VocabSize,
    [property: JsonPropertyName("block_size")] int BlockSize,
    [property: JsonPropertyName("n_layer")] int Layers,
    [property: JsonPropertyName("n_head")] int Heads,
    [property: JsonPropertyName("n_embd")] int Embedding,
    [property: JsonPropertyName("dropout")] double Dropout = 0.0,
    [property: JsonPropertyName("bias")] bool Bias = false)
{
    /// <summary>Checks the sizes.</summary>
    /// <exception cref="ArgumentException">A size is not positive, or heads do not divide the embedding.</exception>
    public void Validate()
    {
        if (VocabSize <= 0) throw new ArgumentException("vocab_size must be positive");
        if (BlockSize <= 0) throw new ArgumentException("block_size must be positive");
        if (Layers <= 0) throw new ArgumentException("n_layer must be positive");
        if (Heads <= 0 || Embedding <= 0 || Embedding % Heads != 0)
            throw new ArgumentException($"n_embd ({Embedding}) must be a positive multiple of n_head ({Heads})");
        if (Dropout is < 0 or >= 1) throw new ArgumentException("dropout must be in [0, 1)");
    }
}
