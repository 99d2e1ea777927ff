using PoolAI.Jobs;
using PoolAI.Decoding;

namespace PoolAI.Models;

/// <summary>
/// Autoregressive generation with a key/value cache: the prompt is fed once (prefill), then one
/// token per step. Sampling follows <see cref="Sampler"/> with a <see cref="SplitMix64"/> seeded by
/// the request, so the same model, prompt, settings and seed always give the same text — here and through
/// <see cref="ContinuousBatcher"/>, which runs the same decoding loop (<see cref="SequenceBatch"/>) for many requests.
/// <para>
/// Context longer than the block size: the prompt keeps its last <c>block_size</c> tokens; when
/// generation fills the cache, it is rebuilt from the last ¾ of the block (one prefill per ¼ block
/// of new tokens), so positions stay within the range the model was trained on.
/// </para>
/// </summary>
/// <param name="model">The model to run.</param>
/// <param name="backend">The arithmetic; the same as the pool's (<see cref="ContinuousBatcher"/>) for the same text.</param>
public sealed class TextGenerator(LoadedModel model, DecodeBackend backend = DecodeBackend.Native)
{
    /// <summary>The model it runs.</summary>
    public LoadedModel Model { get; } = model;

    /// <summary>The arithmetic it decodes with.</summary>
    public DecodeBackend Backend { get; } = backend;

    /// <summary>Generates text for <paramref name="settings"/>.</summary>
    /// <param name="settings">Validated settings (see <see cref="JobSpecRules"/>).</param>
    /// <param name="onText">Receives each piece of final text in order with its character offset and the tokens generated so far; text that could still become a stop sequence is held back until it cannot.</param>
    /// <param name="cancellationToken">Checked before every token.</param>
    /// <exception cref="JobValidationException">The prompt has characters the tokenizer cannot encode.</exception>
    /// <exception cref="OperationCanceledException">Cancelled.</exception>
    public GenerationOutcome Generate(GenerationSettings settings, Action<int, string, int>? onText = null, CancellationToken cancellationToken = default)
    {
        var sequence = new GenerationSequence(Model, settings, onText, cancellationToken);
        using var batch = new SequenceBatch(Model, capacity: 1, Backend);
        batch.Admit(sequence);
        while (batch.Count > 0)
            batch.Step();
        return sequence.Result();
    }
}

/// <summary>What one generation produced.</summary>
/// <param name="Text">Generated text without the prompt and without the stop sequence.</param>
/// <param name="Tokens">Tokens sampled.</param>
/// <param name="FinishReason"><c>stop</c> or <c>length</c>.</param>
/// <param name="Elapsed">Wall time of the generation (prefill included).</param>
/// <param name="MeanBatch">Mean number of sequences in the decode passes that computed this one's tokens (1 alone; up to
/// the batch cap in a busy continuous batch): its tokens/s times this is the throughput of the batch it shared.</param>
public sealed record GenerationOutcome(string Text, int Tokens, string FinishReason, TimeSpan Elapsed, double MeanBatch = 1);
