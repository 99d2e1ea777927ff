namespace PoolAI.Jobs;

/// <summary>What a text or code generation produced.</summary>
/// <param name="Text">Generated text, without the prompt and without the stop sequence that ended it.</param>
/// <param name="TokensGenerated">Tokens sampled (for a stop sequence, including the tokens that formed it).</param>
/// <param name="FinishReason"><c>stop</c> when a stop sequence ended it, <c>length</c> when max tokens did,
/// <c>cancelled</c> for what a cancelled job had produced (see <see cref="JobResult.Partial"/>).</param>
/// <param name="Decoder">The arithmetic version of the decoder that produced it (<c>native-fma-1</c>, …): the same model,
/// settings and seed give the same text under the same version. Null for text stored before it was recorded.</param>
[GenerateSerializer, Immutable, Alias("poolai.TextOutput")]
public sealed record TextOutput(
    [property: Id(0)] string Text,
    [property: Id(1)] int TokensGenerated,
    [property: Id(2)] string FinishReason,
    [property: Id(3)] string? Decoder = null) : IJobOutput;
