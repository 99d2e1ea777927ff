namespace PoolAI.Decoding;

/// <summary>A float32 matrix in row-major order as PyTorch stores it: <c>[Rows, Columns]</c>.</summary>
/// <param name="Rows">Rows.</param>
/// <param name="Columns">Columns.</param>
/// <param name="Values"><c>Rows × Columns</c> floats, row after row.</param>
public sealed record Matrix(int Rows, int Columns, float[] Values)
{
    /// <summary>Checks that <see cref="Values"/> holds <c>Rows × Columns</c> floats.</summary>
    /// <param name="name">The argument's name, for the message.</param>
    /// <exception cref="ArgumentException">It does not.</exception>
    public void Validate(string name)
    {
        if (Rows < 1 || Columns < 1 || Values.Length != Rows * Columns)
            throw new ArgumentException($"{name} must be [{Rows}, {Columns}] = {Rows * Columns} floats; got {Values.Length}", name);
    }
}

/// <summary>A linear layer <c>y = x·Wᵀ + b</c> as <c>torch.nn.Linear</c> holds it.</summary>
/// <param name="Weight"><c>[out, in]</c>.</param>
/// <param name="Bias"><c>[out]</c>, or null for none.</param>
public sealed record LinearWeights(Matrix Weight, float[]? Bias = null);

/// <summary>A layer norm's affine part as <c>torch.nn.LayerNorm</c> holds it (ε = 10⁻⁵).</summary>
/// <param name="Scale"><c>[embd]</c> (PyTorch's <c>weight</c>).</param>
/// <param name="Shift"><c>[embd]</c> (PyTorch's <c>bias</c>), or null for none.</param>
public sealed record NormWeights(float[] Scale, float[]? Shift = null);

/// <summary>One pre-norm transformer block (GPT-2 layout): <c>x + proj(attn(ln1(x)))</c>, then <c>x + proj(gelu(fc(ln2(x))))</c>.</summary>
/// <param name="AttentionNorm">ln1.</param>
/// <param name="Attention">Queries, keys and values in one: <c>[3·embd, embd]</c>, in that order, heads side by side in each.</param>
/// <param name="AttentionProjection"><c>[embd, embd]</c>.</param>
/// <param name="MlpNorm">ln2.</param>
/// <param name="Mlp"><c>[hidden, embd]</c>.</param>
/// <param name="MlpProjection"><c>[embd, hidden]</c>.</param>
public sealed record BlockWeights(
    NormWeights AttentionNorm,
    LinearWeights Attention,
    LinearWeights AttentionProjection,
    NormWeights MlpNorm,
    LinearWeights Mlp,
    LinearWeights MlpProjection);
