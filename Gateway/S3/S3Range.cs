using System.Globalization;

namespace PoolAI.Gateway.S3;

/// <summary>
/// A <c>Range: bytes=…</c> request header resolved against an object's length (RFC 9110 §14.1.2, one range, as S3):
/// <c>bytes=a-b</c> (b clipped to the last byte), <c>bytes=a-</c>, <c>bytes=-n</c> (the last n bytes).
/// </summary>
/// <param name="Offset">First byte.</param>
/// <param name="Length">Bytes.</param>
public readonly record struct S3Range(long Offset, long Length)
{
    /// <summary>
    /// The range <paramref name="header"/> asks for of an object of <paramref name="length"/> bytes; null when the
    /// header is absent or not one single byte range (then the whole object is served, as RFC 9110 says).
    /// </summary>
    /// <exception cref="S3ErrorException">InvalidRange (416): the range starts at or after the end, or asks for the last 0 bytes.</exception>
    public static S3Range? Resolve(string? header, long length)
    {
        if (string.IsNullOrWhiteSpace(header) || !header.StartsWith("bytes=", StringComparison.OrdinalIgnoreCase))
            return null;
        var spec = header["bytes=".Length..].Trim();
        var dash = spec.IndexOf('-', StringComparison.Ordinal);
        if (dash < 0 || spec.Contains(',', StringComparison.Ordinal))
            return null;
        var first = spec[..dash].Trim();
        var last = spec[(dash + 1)..].Trim();
        if (first.Length == 0)
        {
            if (!long.TryParse(last, NumberStyles.None, CultureInfo.InvariantCulture, out var suffix))
                return null;
            if (suffix == 0 || length == 0)
                throw S3Errors.InvalidRange(header, length);
            var count = Math.Min(suffix, length);
            return new S3Range(length - count, count);
        }

        if (!long.TryParse(first, NumberStyles.None, CultureInfo.InvariantCulture, out var start))
            return null;
        var end = length - 1;
        if (last.Length > 0)
        {
            if (!long.TryParse(last, NumberStyles.None, CultureInfo.InvariantCulture, out var lastByte) || lastByte < start)
                return null;
            end = Math.Min(lastByte, length - 1);
        }

        return start >= length ? throw S3Errors.InvalidRange(header, length) : new S3Range(start, end - start + 1);
    }

    /// <summary>The <c>Content-Range</c> value, <c>bytes first-last/length</c>.</summary>
    public string ContentRange(long length) => string.Create(CultureInfo.InvariantCulture, $"bytes {Offset}-{Offset + Length - 1}/{length}");
}
