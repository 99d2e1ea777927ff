namespace PoolAI.Jobs;

/// <summary>The output of a finished generation job.</summary>
/// <param name="Text">Generated text, without the prompt and without the stop sequence that ended it.</param>
/// <param name="TokensGenerated">Tokens sampled (for a stop sequence, including the tokens that formed it).</param>
/// <param name="FinishReason"><c>stop</c> when a stop sequence ended it, <c>length</c> when max tokens did.</param>
/// <param name="Elapsed">Wall time from the first forward pass to the last token.</param>
/// <param name="Silo">Address of the silo whose inference grain produced it.</param>
/// <param name="CachedFrom">Set when the result was served from the result cache: the job whose worker produced it
/// (<see cref="Elapsed"/> and <see cref="Silo"/> are that job's). Null for a result generated for this job.</param>
[GenerateSerializer, Immutable, Alias("poolai.JobResult")]
public sealed record JobResult(
    [property: Id(0)] string Text,
    [property: Id(1)] int TokensGenerated,
    [property: Id(2)] string FinishReason,
    [property: Id(3)] TimeSpan Elapsed,
    [property: Id(4)] string Silo,
    [property: Id(5)] Guid? CachedFrom = null)
{
    /// <summary>True when the result came from the result cache, not from a worker running this job.</summary>
    public bool Cached => CachedFrom is not null;

    /// <summary>Generated tokens per second of <see cref="Elapsed"/>.</summary>
    public double TokensPerSecond => Elapsed > TimeSpan.Zero ? TokensGenerated / Elapsed.TotalSeconds : 0;
}
