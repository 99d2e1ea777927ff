using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using PoolAI.Execution;

namespace PoolAI.Jobs;

/// <summary>
/// The result cache's rule: which jobs may be served from it and under which key. A key is the hex SHA-256 of the job
/// kind, the model, the device class the job requires (a job that asks for <c>cuda</c> is never served output a CPU
/// made, nor the other way round; a job that leaves the device open shares results with others that do) and the kind's
/// cache identity of the request (<see cref="JobKindDescriptor.CacheIdentity"/>: for text, the checkpoint's weights
/// hash, the decoder's arithmetic and every sampling setting). Every field is length-prefixed, so no two different
/// requests share the text that is hashed. Memory requirements are not in the key: they choose a silo, not the output.
/// </summary>
public static class ResultCacheKey
{
    /// <summary>
    /// The key of <paramref name="spec"/>, or null when the job must neither read nor write the cache: it opted out
    /// (<see cref="JobSpec.NoCache"/>), it is a check job of verification (it exists to run the work again elsewhere), it
    /// excludes workers (so it wants a particular kind of re-run), or its kind gives no identity (outputs not reproducible).
    /// </summary>
    public static string? For(JobSpec spec, JobKindDescriptor kind)
    {
        if (spec.NoCache || spec.Verifies is not null || spec.ExcludedWorkers is { Count: > 0 } || kind.CacheIdentity(spec) is not { } identity)
            return null;
        var text = CacheText.Join(["v3", spec.Kind.Name, spec.Model, spec.Requirements?.Device ?? string.Empty, identity]);
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
    }
}

/// <summary>Writes fields so that different lists of fields never give the same text: each is <c>LENGTH:VALUE;</c>.</summary>
public static class CacheText
{
    /// <summary>The fields, each length-prefixed, in order.</summary>
    public static string Join(IEnumerable<string> fields)
    {
        var text = new StringBuilder();
        foreach (var field in fields)
            text.Append(field.Length.ToString(CultureInfo.InvariantCulture)).Append(':').Append(field).Append(';');
        return text.ToString();
    }
}
