namespace PoolAI.Jobs;

/// <summary>
/// A job, or a setting in it, breaks a rule. <see cref="Field"/> names the field (as the CLI and the
/// HTTP API spell it, e.g. <c>top_p</c>) and <see cref="Rule"/> says what it must be.
/// </summary>
[GenerateSerializer, Alias("poolai.JobValidationException")]
public sealed class JobValidationException : Exception
{
    /// <summary>Creates the error for <paramref name="field"/> breaking <paramref name="rule"/>.</summary>
    public JobValidationException(string field, string rule)
        : base($"{field}: {rule}")
    {
        Field = field;
        Rule = rule;
    }

    /// <summary>The field that is wrong, e.g. <c>max_tokens</c>.</summary>
    [Id(0)]
    public string Field { get; }

    /// <summary>The rule it breaks, e.g. "must be between 1 and 4096".</summary>
    [Id(1)]
    public string Rule { get; }
}
