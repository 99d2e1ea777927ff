namespace PoolAI.Kinds.DataProcessing;

/// <summary>Whether two files hold the same content, as far as what is known of them tells.</summary>
public enum Sameness
{
    /// <summary>The same content: nothing to copy.</summary>
    Same,

    /// <summary>Other content: copy.</summary>
    Different,

    /// <summary>Cannot tell (opaque ETags and no SHA-256 on one side): ask for more, else copy.</summary>
    Unknown,
}

/// <summary>
/// How a sync decides that a target already holds a source's content without reading either. In order:
/// <list type="number">
/// <item>different lengths: <see cref="Sameness.Different"/>;</item>
/// <item>both SHA-256s known (a volume file always has one; an object has one when it carries <c>x-amz-meta-sha256</c>, which
/// every push writes): equal or not;</item>
/// <item>equal ETags: <see cref="Sameness.Same"/> (an object's ETag is the MD5 of its content when it was written in one
/// request, as a volume file's is; a multipart ETag, <c>MD5-of-part-MD5s-N</c>, is equal only for the same parts);</item>
/// <item>two plain MD5 ETags that differ: <see cref="Sameness.Different"/>;</item>
/// <item>anything else (a multipart ETag against a plain one, an ETag a service made otherwise): <see cref="Sameness.Unknown"/>.</item>
/// </list>
/// The ETag rule is S3's (https://docs.aws.amazon.com/AmazonS3/latest/API/API_Object.html: the ETag of an object
/// created by PutObject without SSE-KMS or SSE-C is the MD5 digest of its data).
/// </summary>
public static class ContentMatch
{
    /// <summary>Compares what is known of <paramref name="source"/> and <paramref name="target"/>.</summary>
    public static Sameness Compare(SyncEntry source, SyncEntry target)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(target);
        if (source.Length != target.Length)
            return Sameness.Different;
        if (Hex(source.Sha256) is { } sourceSha && Hex(target.Sha256) is { } targetSha)
            return sourceSha == targetSha ? Sameness.Same : Sameness.Different;
        var sourceTag = ETag(source.ETag);
        var targetTag = ETag(target.ETag);
        if (sourceTag is not null && sourceTag == targetTag)
            return Sameness.Same;
        return IsMd5(sourceTag) && IsMd5(targetTag) ? Sameness.Different : Sameness.Unknown;
    }

    /// <summary>An ETag without quotes or weak prefix, lower-case; null when absent or empty.</summary>
    public static string? ETag(string? etag)
    {
        var tag = etag?.Trim();
        if (tag is not null && tag.StartsWith("W/", StringComparison.OrdinalIgnoreCase))
            tag = tag[2..];
        tag = tag?.Trim('"').ToLowerInvariant();
        return string.IsNullOrEmpty(tag) ? null : tag;
    }

    /// <summary>True for an ETag (as <see cref="ETag"/> returns it) that is a plain MD5: 32 hex digits.</summary>
    public static bool IsMd5(string? tag) => tag is { Length: 32 } && tag.All(char.IsAsciiHexDigit);

    private static string? Hex(string? sha256) => sha256 is { Length: 64 } hex && hex.All(char.IsAsciiHexDigit) ? hex.ToLowerInvariant() : null;
}
