namespace PoolAI.Jobs;

/// <summary>
/// The rules every job must satisfy before it is accepted, whatever its kind: ranges and required fields. Each kind
/// checks its own input (its descriptor's <c>Validate</c>; for text, <see cref="Validate(GenerationSettings)"/> and the
/// model registry). Field names are the CLI's and HTTP API's snake_case names.
/// </summary>
public static class JobSpecRules
{
    /// <summary>Largest <see cref="GenerationSettings.MaxTokens"/> a job may ask for.</summary>
    public const int MaxTokensLimit = 4096;

    /// <summary>Largest prompt, in characters.</summary>
    public const int MaxPromptLength = 32_768;

    /// <summary>Longest stop sequence, characters.</summary>
    public const int MaxStopLength = 256;

    /// <summary>Longest time to live a job may ask for (timers of longer spans are not supported either).</summary>
    public static readonly TimeSpan MaxTimeToLive = TimeSpan.FromDays(30);

    /// <summary>Largest temperature accepted.</summary>
    public const float MaxTemperature = 10f;

    /// <summary>Priority range, inclusive.</summary>
    public const int MinPriority = -10, MaxPriority = 10;

    /// <summary>Most workers a job may exclude.</summary>
    public const int MaxExcludedWorkers = 100;

    /// <summary>Checks a priority, of a new job or a change of one (<see cref="MinPriority"/>…<see cref="MaxPriority"/>).</summary>
    /// <exception cref="JobValidationException">Out of range (field <c>priority</c>).</exception>
    public static void ValidatePriority(int priority)
    {
        if (priority is < MinPriority or > MaxPriority)
            throw new JobValidationException("priority", $"must be between {MinPriority} and {MaxPriority}, was {priority}");
    }

    /// <summary>Checks the kind-independent fields of <paramref name="spec"/>; returns normally when they are valid.</summary>
    /// <exception cref="JobValidationException">The first rule broken, naming the field.</exception>
    public static void Validate(JobSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (string.IsNullOrWhiteSpace(spec.Model))
            throw new JobValidationException("model", "is required");
        ValidatePriority(spec.Priority);
        if (spec.TimeToLive is { } ttl && (ttl <= TimeSpan.Zero || ttl > MaxTimeToLive))
            throw new JobValidationException("ttl", $"must be positive and at most {MaxTimeToLive.TotalDays:0} days, was {ttl}");
        if (spec.ExcludedWorkers is { } excluded)
        {
            if (excluded.Count > MaxExcludedWorkers)
                throw new JobValidationException("excluded_workers", $"must list at most {MaxExcludedWorkers} workers, was {excluded.Count}");
            if (excluded.Any(string.IsNullOrWhiteSpace))
                throw new JobValidationException("excluded_workers", "must not contain empty worker ids");
        }
        if (spec.WebhookUrl is { } webhook)
        {
            if (webhook.Length > 2048 || !Uri.TryCreate(webhook, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
                throw new JobValidationException("webhook_url", "must be an absolute http or https URL of at most 2048 characters");
        }

        spec.Requirements?.Validate();
    }

    /// <summary>Checks prompt and sampling settings.</summary>
    /// <exception cref="JobValidationException">The first rule broken, naming the field.</exception>
    public static void Validate(GenerationSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        if (string.IsNullOrEmpty(settings.Prompt))
            throw new JobValidationException("prompt", "must not be empty");
        if (settings.Prompt.Length > MaxPromptLength)
            throw new JobValidationException("prompt", $"must be at most {MaxPromptLength} characters, was {settings.Prompt.Length}");
        if (settings.MaxTokens is < 1 or > MaxTokensLimit)
            throw new JobValidationException("max_tokens", $"must be between 1 and {MaxTokensLimit}, was {settings.MaxTokens}");
        if (float.IsNaN(settings.Temperature) || settings.Temperature < 0)
            throw new JobValidationException("temperature", $"must be at least 0, was {settings.Temperature}");
        if (settings.Temperature > MaxTemperature)
            throw new JobValidationException("temperature", $"must be at most {MaxTemperature}, was {settings.Temperature}");
        if (settings.TopK < 0)
            throw new JobValidationException("top_k", $"must be 0 (off) or positive, was {settings.TopK}");
        if (float.IsNaN(settings.TopP) || settings.TopP <= 0 || settings.TopP > 1)
            throw new JobValidationException("top_p", $"must be in (0, 1], was {settings.TopP}");
        if (settings.Stop is { } stop)
        {
            if (stop.Count > 8)
                throw new JobValidationException("stop", $"must hold at most 8 sequences, had {stop.Count}");
            if (stop.Any(string.IsNullOrEmpty))
                throw new JobValidationException("stop", "must not contain empty sequences");
            if (stop.Any(s => s.Length > MaxStopLength))
                throw new JobValidationException("stop", $"sequences must be at most {MaxStopLength} characters, one was {stop.Max(s => s.Length)}");
        }
    }
}
