using PoolAI.Jobs;

namespace PoolAI.Gateway.Binding;

/// <summary>The numbers of the request bodies, each with a rule of <see cref="RequestNumbers"/>.</summary>
public enum RequestNumber
{
    /// <summary><c>max_tokens</c>, <c>max_completion_tokens</c>.</summary>
    MaxTokens,

    /// <summary><c>temperature</c>.</summary>
    Temperature,

    /// <summary><c>top_p</c>.</summary>
    TopP,

    /// <summary><c>top_k</c>.</summary>
    TopK,

    /// <summary><c>seed</c>.</summary>
    Seed,

    /// <summary><c>priority</c>.</summary>
    Priority,

    /// <summary><c>ttl_seconds</c>.</summary>
    TtlSeconds,

    /// <summary><c>requirements.min_memory_mb</c>, <c>requirements.min_gpu_memory_mb</c>.</summary>
    MemoryMb,

    /// <summary>OpenAI's <c>n</c> of text completions.</summary>
    Choices,

    /// <summary>OpenAI's <c>frequency_penalty</c> and <c>presence_penalty</c>.</summary>
    Penalty,

    /// <summary>OpenAI's <c>n</c> of image generations.</summary>
    Images,

    /// <summary>The <c>sequence</c> of a reward correction.</summary>
    LedgerSequence,

    /// <summary>The <c>amount</c> of a reward correction.</summary>
    CreditAmount,
}

/// <summary>
/// The rule of every number in the gateway's request bodies, in the words the API answers with. Job settings take their
/// limits from <see cref="JobSpecRules"/> and <see cref="JobRequirements"/>, which the pool checks again on submit.
/// </summary>
public static class RequestNumbers
{
    /// <summary>Tokens to generate.</summary>
    public static readonly NumberRule MaxTokens = NumberRule.Between(1, JobSpecRules.MaxTokensLimit, integer: true);

    /// <summary>Sampling temperature.</summary>
    public static readonly NumberRule Temperature = NumberRule.Between(0, (decimal)JobSpecRules.MaxTemperature, integer: false);

    /// <summary>Nucleus mass.</summary>
    public static readonly NumberRule TopP = new(0, 1, integer: false, "must be in (0, 1]", minExclusive: true, typeText: "must be a number in (0, 1]");

    /// <summary>Top-k; 0 is off.</summary>
    public static readonly NumberRule TopK = new(0, int.MaxValue, integer: true, $"must be between 0 (off) and {int.MaxValue}", typeText: $"must be an integer between 0 (off) and {int.MaxValue}");

    /// <summary>Sampler seed: any 64-bit integer.</summary>
    public static readonly NumberRule Seed = NumberRule.Between(long.MinValue, long.MaxValue, integer: true);

    /// <summary>Job priority.</summary>
    public static readonly NumberRule Priority = NumberRule.Between(JobSpecRules.MinPriority, JobSpecRules.MaxPriority, integer: true);

    /// <summary>Time to live, seconds.</summary>
    public static readonly NumberRule TtlSeconds = NumberRule.Between(1, (decimal)JobSpecRules.MaxTimeToLive.TotalSeconds, integer: true, $" ({JobSpecRules.MaxTimeToLive.TotalDays:0} days)");

    /// <summary>Least memory a job requires, MiB.</summary>
    public static readonly NumberRule MemoryMb = NumberRule.Between(0, JobRequirements.MaxMemoryMb, integer: true);

    /// <summary>Choices of a completion: only one.</summary>
    public static readonly NumberRule Choices = new(1, 1, integer: true, "only 1 is supported");

    /// <summary>Frequency and presence penalties: only none.</summary>
    public static readonly NumberRule Penalty = new(0, 0, integer: false, "only 0 is supported");

    /// <summary>Images of a generation (OpenAI's range).</summary>
    public static readonly NumberRule Images = NumberRule.Between(1, 10, integer: true);

    /// <summary>A ledger entry's sequence number.</summary>
    public static readonly NumberRule LedgerSequence = new(1, long.MaxValue, integer: true, "must be the sequence number of a credit entry (1 or more)");

    /// <summary>Credits to take back.</summary>
    public static readonly NumberRule CreditAmount = new(0, decimal.MaxValue, integer: false, "must be a positive number", minExclusive: true);

    /// <summary>The rule of <paramref name="number"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Not a defined <see cref="RequestNumber"/>.</exception>
    public static NumberRule For(RequestNumber number) => number switch
    {
        RequestNumber.MaxTokens => MaxTokens,
        RequestNumber.Temperature => Temperature,
        RequestNumber.TopP => TopP,
        RequestNumber.TopK => TopK,
        RequestNumber.Seed => Seed,
        RequestNumber.Priority => Priority,
        RequestNumber.TtlSeconds => TtlSeconds,
        RequestNumber.MemoryMb => MemoryMb,
        RequestNumber.Choices => Choices,
        RequestNumber.Penalty => Penalty,
        RequestNumber.Images => Images,
        RequestNumber.LedgerSequence => LedgerSequence,
        RequestNumber.CreditAmount => CreditAmount,
        _ => throw new ArgumentOutOfRangeException(nameof(number), number, null),
    };
}
