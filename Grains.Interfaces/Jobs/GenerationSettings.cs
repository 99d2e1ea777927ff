namespace PoolAI.Jobs;

/// <summary>
/// What to generate and how to sample it: the input of <see cref="JobKind.TextGeneration"/> and
/// <see cref="JobKind.CodeGeneration"/> jobs. Limits are checked by <see cref="JobSpecRules"/>.
/// </summary>
/// <param name="Prompt">Text the model continues; at least one character, every character in the model's vocabulary.</param>
/// <param name="MaxTokens">Tokens to generate, 1 to <see cref="JobSpecRules.MaxTokensLimit"/>.</param>
/// <param name="Temperature">Logits are divided by this before sampling; 0 means greedy (arg-max). At least 0, at most 10.</param>
/// <param name="TopK">Keep only the K most likely tokens; 0 keeps all.</param>
/// <param name="TopP">Nucleus sampling: keep the smallest set of tokens whose probability sums to at least this; in (0, 1].</param>
/// <param name="Seed">Seed of the sampler; the same seed and settings give the same tokens.</param>
/// <param name="Stop">Generation ends before the first occurrence of any of these strings (which is not returned).</param>
[GenerateSerializer, Immutable, Alias("poolai.GenerationSettings")]
public sealed record GenerationSettings(
    [property: Id(0)] string Prompt,
    [property: Id(1)] int MaxTokens = 256,
    [property: Id(2)] float Temperature = 0.8f,
    [property: Id(3)] int TopK = 0,
    [property: Id(4)] float TopP = 1.0f,
    [property: Id(5)] long Seed = 0,
    [property: Id(6)] IReadOnlyList<string>? Stop = null) : IJobInput;
