namespace PoolAI.Jobs;

/// <summary>The output of a finished generation job.</summary>
/// <param name="Text">Generated text, without the prompt and without the stop sequence that ended it.</param>
/// <param name="TokensGenerated">Tokens sampled (for a stop sequence, including the tokens that formed it).</param>
/// <param name="FinishReason"><c>stop</c> when a stop sequence ended it, <c>length</c> when max tokens did.</param>
/// <param name="Elapsed">Wall time from the first forward pass to the last token.</param>
/// <param name="Silo">Address of the silo whose inference grain produced it.</param>
[GenerateSerializer, Immutable, Alias("poolai.JobResult")]
public sealed record JobResult(
    [property: Id(0)] string Text,
    [property: Id(1)] int TokensGenerated,
    [property: Id(2)] string FinishReason,
    [property: Id(3)] TimeSpan Elapsed,
    [property: Id(4)] string Silo)
{
    /// <summary>Generated tokens per second of <see cref="Elapsed"/>.</summary>
    public double TokensPerSecond => Elapsed > TimeSpan.Zero ? TokensGenerated / Elapsed.TotalSeconds : 0;
}
