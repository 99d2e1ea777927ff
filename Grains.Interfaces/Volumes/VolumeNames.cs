using PoolAI.Jobs;

namespace PoolAI.Volumes;

/// <summary>Rules for volume names and file paths inside a volume.</summary>
public static class VolumeNames
{
    /// <summary>Longest volume name (as S3 bucket names).</summary>
    public const int MaxNameLength = 63;

    /// <summary>Longest file path inside a volume, UTF-8 bytes (as S3 object keys).</summary>
    public const int MaxPathBytes = 1024;

    /// <summary>True for 3–63 characters of <c>a-z</c>, <c>0-9</c> and <c>-</c>, starting and ending with a letter or digit (S3's bucket rule, so every volume is a bucket on <c>/s3</c>).</summary>
    public static bool IsValid(string? name) =>
        name is { Length: >= 3 and <= MaxNameLength }
        && name.All(c => c is >= 'a' and <= 'z' or >= '0' and <= '9' or '-')
        && name[0] != '-' && name[^1] != '-';

    /// <summary>Checks a volume name.</summary>
    /// <exception cref="JobValidationException">Field <paramref name="field"/>: the rule of <see cref="IsValid"/>.</exception>
    public static string CheckName(string? name, string field = "volume") => IsValid(name)
        ? name!
        : throw new JobValidationException(field, $"must be 3 to {MaxNameLength} characters of a-z, 0-9 and '-', starting and ending with a letter or digit (got '{name}')");

    /// <summary>
    /// Checks a file path and returns it normalised: <c>/</c>-separated segments, no leading <c>/</c>, no empty, <c>.</c>
    /// or <c>..</c> segment, no control character or backslash, at most <see cref="MaxPathBytes"/> UTF-8 bytes.
    /// </summary>
    /// <exception cref="JobValidationException">Field <paramref name="field"/>: the rule it breaks.</exception>
    public static string CheckPath(string? path, string field = "path")
    {
        if (string.IsNullOrEmpty(path))
            throw new JobValidationException(field, "must not be empty");
        var trimmed = path.TrimStart('/');
        if (System.Text.Encoding.UTF8.GetByteCount(trimmed) > MaxPathBytes)
            throw new JobValidationException(field, $"must be at most {MaxPathBytes} UTF-8 bytes (got {System.Text.Encoding.UTF8.GetByteCount(trimmed)})");
        if (trimmed.Any(c => char.IsControl(c) || c == '\\'))
            throw new JobValidationException(field, "must not contain control characters or '\\'");
        foreach (var segment in trimmed.Split('/'))
        {
            if (segment is "" or "." or "..")
                throw new JobValidationException(field, $"must not contain empty, '.' or '..' segments (got '{path}')");
        }

        return trimmed;
    }
}
