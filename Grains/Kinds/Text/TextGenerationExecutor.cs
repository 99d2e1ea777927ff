using PoolAI.Execution;
using PoolAI.Inference;
using PoolAI.Jobs;

namespace PoolAI.Kinds.Text;

/// <summary>
/// Generates text on this silo: the job joins its model's continuous batch (<see cref="Models.ContinuousBatcher"/>,
/// loaded once per silo by <see cref="ModelHost"/>), streams each piece of text as it is sampled and reports the tokens
/// generated so far as progress. Its elapsed time is the generation's own, from its first forward pass.
/// </summary>
public sealed class TextGenerationExecutor(ModelHost host) : IJobExecutor<GenerationSettings, TextOutput>
{
    /// <inheritdoc />
    public async Task<TextOutput> ExecuteAsync(JobExecution<GenerationSettings> job, CancellationToken cancellationToken)
    {
        var settings = job.Input;
        var (outcome, batcher) = await host.GenerateAsync(
            job.Target,
            settings,
            (_, text, tokens) => job.Write(text, new JobProgress(tokens, settings.MaxTokens, "tokens")),
            cancellationToken);
        job.Report(outcome.Tokens, settings.MaxTokens, "tokens");
        job.Elapsed = outcome.Elapsed;
        job.Concurrency = outcome.MeanBatch;
        return new TextOutput(outcome.Text, outcome.Tokens, outcome.FinishReason, batcher.DecodeVersion);
    }
}
