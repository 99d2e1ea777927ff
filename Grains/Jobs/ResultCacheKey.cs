using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace PoolAI.Jobs;

/// <summary>
/// The result cache's rule: which jobs may be served from it and under which key. A key is the hex SHA-256 of the
/// model id, the model checkpoint's weights SHA-256 (so a retrained model never hits results of the old one), the job
/// kind, the device class the job requires (a job that asks for <c>cuda</c> is never served text a CPU generated, nor
/// the other way round; a job that leaves the device open shares results with others that do) and the canonical
/// generation settings. Stop sequences count as a set: generation ends at the earliest match of any of them, so their
/// order and repeats do not change the text. Every field is length-prefixed, so no two different requests share the
/// text that is hashed. Memory requirements are not in the key: they choose a silo, not the tokens.
/// </summary>
public static class ResultCacheKey
{
    /// <summary>
    /// The key of <paramref name="spec"/> on the checkpoint whose weights hash is <paramref name="weightsSha256"/>, or null
    /// when the job must neither read nor write the cache: it opted out (<see cref="JobSpec.NoCache"/>), it is a check
    /// job of verification (it exists to run the work again elsewhere), it excludes workers (so it wants a particular
    /// kind of re-run), it has no generation settings, or the checkpoint has no weights hash to identify it by.
    /// </summary>
    public static string? For(JobSpec spec, string? weightsSha256)
    {
        if (spec.NoCache || spec.Verifies is not null || spec.ExcludedWorkers is { Count: > 0 } || spec.Generation is not { } settings
            || string.IsNullOrWhiteSpace(weightsSha256) || spec.Kind is not (JobKind.TextGeneration or JobKind.CodeGeneration))
            return null;
        var text = new StringBuilder();
        Field(text, "v2");
        Field(text, spec.Model);
        Field(text, weightsSha256.ToLowerInvariant());
        Field(text, spec.Kind.ToString());
        Field(text, spec.Requirements?.Device ?? string.Empty);
        Field(text, settings.Prompt);
        Field(text, settings.MaxTokens.ToString(CultureInfo.InvariantCulture));
        Field(text, Number(settings.Temperature));
        Field(text, settings.TopK.ToString(CultureInfo.InvariantCulture));
        Field(text, Number(settings.TopP));
        Field(text, settings.Seed.ToString(CultureInfo.InvariantCulture));
        var stop = (settings.Stop ?? []).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        Field(text, stop.Count.ToString(CultureInfo.InvariantCulture));
        foreach (var sequence in stop)
            Field(text, sequence);
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())));
    }

    // Round-trip form of the float the sampler receives; -0 is 0 to the sampler.
    private static string Number(float value) => (value == 0 ? 0f : value).ToString("R", CultureInfo.InvariantCulture);

    private static void Field(StringBuilder text, string value) =>
        text.Append(value.Length.ToString(CultureInfo.InvariantCulture)).Append(':').Append(value).Append(';');
}
