using System.ComponentModel;
using System.Text.Json.Serialization;
using PoolAI.Jobs;
using PoolAI.Gateway.Binding;

namespace PoolAI.Gateway.Jobs;

/// <summary>
/// Body of <c>POST /api/jobs</c>: a job of any kind the pool runs. Text and code generation read the prompt and sampling
/// fields; system tasks (<c>kind</c> <c>System</c>, <c>model</c> the task) and data processing (<c>kind</c>
/// <c>DataProcessing</c>, <c>model</c> the operation, <c>sync</c>) read <c>parameters</c>; a kind the pool does not run is
/// refused naming <c>kind</c>.
/// </summary>
public sealed record GenerateRequest
{
    /// <summary>The model of a text job that names none.</summary>
    public const string DefaultModel = "shakespeare-char";

    /// <summary>What the job does.</summary>
    [Description("TextGeneration (default), CodeGeneration (on a code model), System (model: the task: noop, probe, migrate, mirror) or DataProcessing (model: the operation, sync)")]
    public JobKind Kind { get; init; } = JobKind.TextGeneration;

    /// <summary>Time to live, seconds.</summary>
    [JsonPropertyName("ttl_seconds"), NumberRule(RequestNumber.TtlSeconds), Description("Seconds the job may wait and run before it expires; default the pool's")]
    public int? TtlSeconds { get; init; }

    /// <summary>Model id, or a task's name.</summary>
    [Description("Model id for text and code generation (default shakespeare-char); the task's name for System jobs (noop, probe, migrate, mirror) and the operation for DataProcessing jobs (sync), required there")]
    public string? Model { get; init; }

    /// <summary>A system task's parameters.</summary>
    [Description("System tasks and data processing: parameters by name (strings, numbers or true/false), e.g. {\"tokens\": 64} for probe; for sync: direction (push or pull), volume, prefix, endpoint, bucket, bucket_prefix, access_key_id, secret_access_key, delete, region")]
    [JsonConverter(typeof(Binding.ParameterValues))]
    public Dictionary<string, string>? Parameters { get; init; }

    /// <summary>Text to continue.</summary>
    [Description("Text for the model to continue")]
    public string? Prompt { get; init; }

    /// <summary>Tokens to generate.</summary>
    [JsonPropertyName("max_tokens"), NumberRule(RequestNumber.MaxTokens), Description("Tokens to generate, 1 to 4096; default 256")]
    public int? MaxTokens { get; init; }

    /// <summary>Sampling temperature.</summary>
    [NumberRule(RequestNumber.Temperature), Description("0 to 10; 0 is greedy; default 0.8")]
    public float? Temperature { get; init; }

    /// <summary>Top-k.</summary>
    [JsonPropertyName("top_k"), NumberRule(RequestNumber.TopK), Description("Keep the K most likely tokens; 0 (default) keeps all")]
    public int? TopK { get; init; }

    /// <summary>Top-p.</summary>
    [JsonPropertyName("top_p"), NumberRule(RequestNumber.TopP), Description("Nucleus mass in (0, 1]; default 1")]
    public float? TopP { get; init; }

    /// <summary>Sampler seed.</summary>
    [NumberRule(RequestNumber.Seed), Description("Same seed and settings give the same text; default 0")]
    public long? Seed { get; init; }

    /// <summary>Stop sequences.</summary>
    [Description("Generation ends before any of these")]
    public string[]? Stop { get; init; }

    /// <summary>Webhook.</summary>
    [JsonPropertyName("webhook_url"), Description("Absolute http(s) URL that gets a signed POST when the job reaches a final state")]
    public string? WebhookUrl { get; init; }

    /// <summary>Priority.</summary>
    [NumberRule(RequestNumber.Priority), Description("-10 to 10; higher runs first")]
    public int Priority { get; init; }

    /// <summary>What the serving silo must offer.</summary>
    [Description("Device (cpu or cuda) and least memory the serving silo must offer; omitted for any silo serving the model")]
    public RequirementsRequest? Requirements { get; init; }

    /// <summary>Which machines may run the job.</summary>
    [Description("open: any serving silo or open miner (a machine the pool does not trust, which then sees the job's input); trusted: only the pool's own silos. Omitted: the pool's default (PoolAI:Jobs:DefaultTrust, open unless the admin set trusted)")]
    public JobTrust? Trust { get; init; }

    /// <summary>Whether the result of an identical earlier request may be served from the result cache.</summary>
    [Description("true (default): an identical earlier request's result (same model, settings and seed) is served at once from the result cache; false: the job runs on a worker")]
    public bool Cache { get; init; } = true;

    /// <summary>The job this request asks for.</summary>
    /// <exception cref="JobValidationException">A field the job's kind does not read was given (<c>parameters</c> of a
    /// text job, <c>prompt</c> or <c>stop</c> of a system task): it would be silently ignored.</exception>
    public JobSpec ToSpec(string requester) => new(
        Kind,
        Model ?? (Kind == JobKind.System
            ? throw new JobValidationException("model", $"is required for System jobs: the task's name ({string.Join(", ", SystemTasks.All)})")
            : Kind == JobKind.DataProcessing
                ? throw new JobValidationException("model", $"is required for DataProcessing jobs: the operation ({string.Join(", ", DataOperations.All)})")
                : DefaultModel),
        Input(),
        Priority,
        requester,
        TtlSeconds is { } ttl ? TimeSpan.FromSeconds(ttl) : null,
        WebhookUrl: WebhookUrl,
        Requirements: Requirements?.ToRequirements(),
        NoCache: !Cache,
        Trust: Trust);

    private IJobInput Input()
    {
        var defaults = new GenerationSettings(string.Empty);
        if (Kind == JobKind.System || Kind == JobKind.DataProcessing)
        {
            // A field the kind does not read is refused rather than ignored: the caller meant something by it.
            var stray = new (string Field, bool Given)[]
            {
                ("prompt", Prompt is not null), ("max_tokens", MaxTokens is not null), ("temperature", Temperature is not null),
                ("top_k", TopK is not null), ("top_p", TopP is not null), ("seed", Seed is not null), ("stop", Stop is not null),
            }.FirstOrDefault(field => field.Given).Field;
            if (stray is not null)
                throw new JobValidationException(stray, $"is not a field of {Kind} jobs, which take parameters");
            return Kind == JobKind.System ? new SystemTaskInput(Parameters) : DataProcessingParameters.ToInput(Model!, Parameters);
        }

        if (Parameters is not null)
            throw new JobValidationException("parameters", $"is not a field of {Kind} jobs, which take a prompt and sampling settings");
        return new GenerationSettings(Prompt ?? string.Empty, MaxTokens ?? defaults.MaxTokens, Temperature ?? defaults.Temperature,
            TopK ?? defaults.TopK, TopP ?? defaults.TopP, Seed ?? defaults.Seed, Stop);
    }
}

/// <summary>The <c>requirements</c> object of a job request (see <see cref="JobRequirements"/>).</summary>
public sealed record RequirementsRequest
{
    /// <summary>Device class.</summary>
    [Description("cpu or cuda; omitted for any")]
    public string? Device { get; init; }

    /// <summary>Least host memory, MiB.</summary>
    [JsonPropertyName("min_memory_mb"), NumberRule(RequestNumber.MemoryMb), Description("Least host memory of the silo, MiB")]
    public long MinMemoryMb { get; init; }

    /// <summary>Least GPU memory, MiB.</summary>
    [JsonPropertyName("min_gpu_memory_mb"), NumberRule(RequestNumber.MemoryMb), Description("Least GPU memory of the silo, MiB (implies cuda)")]
    public long MinGpuMemoryMb { get; init; }

    /// <summary>The requirements this object states.</summary>
    public JobRequirements ToRequirements() => new(Device, MinMemoryMb, MinGpuMemoryMb);
}
