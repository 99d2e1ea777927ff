using System.Globalization;
using PoolAI.Execution;
using PoolAI.Jobs;
using PoolAI.Models;
using PoolAI.Placement;

namespace PoolAI.Kinds.Text;

/// <summary>
/// Text and code generation: input <see cref="GenerationSettings"/> (prompt and sampling), output
/// <see cref="TextOutput"/>, streamed as it is sampled. A <see cref="JobKind.TextGeneration"/> job runs on a model whose
/// config says <c>text</c>, a <see cref="JobKind.CodeGeneration"/> job on a <c>code</c> model; both on silos that
/// advertise the model (<see cref="PoolKeys.ModelsMetadata"/>).
/// <list type="bullet">
/// <item>Work units: generated tokens (<see cref="TextOutput.TokensGenerated"/>), paid at the formula's text rate.</item>
/// <item>Reproducible: the same checkpoint, settings and seed give the same tokens under one decoder arithmetic
/// (<see cref="DecodeEngine.Version"/>, the pool's), so results are cached (the identity holds the checkpoint's weights
/// hash, the arithmetic and every sampling setting; text another decoder made is not stored) and verified by re-running
/// (the fingerprint is the text).</item>
/// <item>A cancelled job keeps the text and tokens streamed so far.</item>
/// </list>
/// </summary>
/// <param name="kind"><see cref="JobKind.TextGeneration"/> or <see cref="JobKind.CodeGeneration"/>.</param>
/// <param name="models">The model registry.</param>
public sealed class TextGenerationKind(JobKind kind, ModelRegistry models) : JobKindDescriptor<GenerationSettings, TextOutput>(kind)
{
    /// <summary>The <c>kind</c> a model's config must have for this job kind: <c>text</c> or <c>code</c>.</summary>
    public string ModelKind { get; } = kind == JobKind.CodeGeneration ? "code" : "text";

    /// <inheritdoc />
    public override string WorkUnit => "generated tokens";

    /// <inheritdoc />
    public override IEnumerable<string> KnownTargets => models.Models.Where(m => m.Kind == ModelKind).Select(m => m.Id);

    /// <inheritdoc />
    public override bool Serves(IReadOnlyDictionary<string, string> silo, string target) =>
        SiloCapabilities.Models(silo).Contains(target, StringComparer.Ordinal);

    /// <inheritdoc />
    protected override void Validate(JobSpec spec, GenerationSettings input)
    {
        JobSpecRules.Validate(input);
        models.Validate(spec.Model, ModelKind, input.Prompt);
    }

    /// <inheritdoc />
    protected override long WorkUnits(TextOutput output) => output.TokensGenerated;

    /// <inheritdoc />
    public override IJobOutput? PartialOutput(string streamed, JobProgress? progress) =>
        new TextOutput(streamed, (int)Math.Min(progress?.Step ?? 0, int.MaxValue), "cancelled");

    /// <inheritdoc />
    protected override string? Fingerprint(TextOutput output) => output.Text;

    /// <summary>Text generation runs on open miners: its input and output are plain records, and verification re-runs it.</summary>
    public override bool RunsOnOpenMiners(string target) => true;

    /// <summary>
    /// A miner's claimed output must be possible for the request: between 0 and <see cref="GenerationSettings.MaxTokens"/>
    /// tokens (a miner paid per token cannot claim more than the job allowed); the finish reason <c>length</c> only
    /// with exactly max tokens, and <c>stop</c> only when the job has stop sequences; no stop sequence left in the
    /// text; and, as the pool's models make one token per character, every character one the model can produce, and
    /// as many tokens as characters (<c>length</c>) or as characters plus a stop sequence (<c>stop</c>). What the text
    /// says is verification's to check, by re-running the job elsewhere.
    /// </summary>
    protected override string? CheckOutput(string target, GenerationSettings input, TextOutput output)
    {
        if (output.TokensGenerated < 0 || output.TokensGenerated > input.MaxTokens)
            return $"tokens_generated: must be between 0 and the job's max_tokens {input.MaxTokens}; was {output.TokensGenerated}";
        if (output.FinishReason is not ("stop" or "length"))
            return $"finish_reason: must be 'stop' or 'length'; was '{output.FinishReason}'";
        if (output.FinishReason == "length" && output.TokensGenerated != input.MaxTokens)
            return $"tokens_generated: must equal max_tokens {input.MaxTokens} when finish_reason is 'length'; was {output.TokensGenerated}";
        var stops = (input.Stop ?? []).Where(stop => stop.Length > 0).ToList();
        if (output.FinishReason == "stop" && stops.Count == 0)
            return "finish_reason: 'stop' needs a stop sequence, and the job has none";
        if (stops.Any(stop => output.Text.Contains(stop, StringComparison.Ordinal)))
            return "text: holds a stop sequence, where generation must have ended";
        if (models.TokenizerOf(target) is not { } tokenizer)
            return null;
        if (!tokenizer.CanEncode(output.Text))
            return "text: holds characters the model cannot produce";
        var counted = output.FinishReason == "length"
            ? output.TokensGenerated == output.Text.Length
            : stops.Any(stop => output.TokensGenerated == output.Text.Length + stop.Length);
        return counted ? null : $"tokens_generated: {output.TokensGenerated} is not what {output.Text.Length} characters of text make (one token per character{(output.FinishReason == "stop" ? ", plus the stop sequence" : string.Empty)})";
    }

    /// <summary>Only text the pool's decoder arithmetic made is cached: its identity names that arithmetic (a miner that
    /// decodes with TorchSharp makes other text for the same seed).</summary>
    protected override bool Cacheable(TextOutput output) => output.Decoder == DecodeEngine.Version;

    /// <summary>
    /// The checkpoint's weights hash (so a retrained model never serves the old one's results), the pool's decoder
    /// arithmetic (<see cref="DecodeEngine.Version"/>: a new decoder samples other tokens) and every setting that changes
    /// the tokens. Stop sequences count as
    /// a set: generation ends at the earliest match of any, so their order and repeats do not change the text. Null
    /// when the checkpoint has no weights hash to identify it by.
    /// </summary>
    protected override string? CacheIdentity(JobSpec spec, GenerationSettings input)
    {
        if (!models.Contains(spec.Model) || models.Get(spec.Model).Weights?.Sha256 is not { Length: > 0 } weights)
            return null;
        var stop = (input.Stop ?? []).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        return CacheText.Join(
            [weights.ToLowerInvariant(), DecodeEngine.Version, input.Prompt, Integer(input.MaxTokens), Number(input.Temperature),
             Integer(input.TopK), Number(input.TopP), input.Seed.ToString(CultureInfo.InvariantCulture), Integer(stop.Count), .. stop]);
    }

    private static string Integer(int value) => value.ToString(CultureInfo.InvariantCulture);

    // Round-trip form of the float the sampler receives; -0 is 0 to the sampler.
    private static string Number(float value) => (value == 0 ? 0f : value).ToString("R", CultureInfo.InvariantCulture);
}
