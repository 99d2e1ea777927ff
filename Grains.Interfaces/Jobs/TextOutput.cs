namespace PoolAI.Jobs;

/// <summary>What a text or code generation produced.</summary>
/// <param name="Text">Generated text, without the prompt and without the stop sequence that ended it.</param>
/// <param name="TokensGenerated">Tokens sampled (for a stop sequence, including the tokens that formed it).</param>
/// <param name="FinishReason"><c>stop</c> when a stop sequence ended it, <c>length</c> when max tokens did,
/// <c>cancelled</c> for what a cancelled job had produced (see <see cref="JobResult.Partial"/>).</param>
[GenerateSerializer, Immutable, Alias("poolai.TextOutput")]
public sealed record TextOutput(
    [property: Id(0)] string Text,
    [property: Id(1)] int TokensGenerated,
    [property: Id(2)] string FinishReason) : IJobOutput;
