using System.Globalization;
using Microsoft.AspNetCore.Http.Features;
using PoolAI.Gateway.S3.Signing;

namespace PoolAI.Gateway.S3.Body;

/// <summary>
/// Opens the body of a signed S3 request as the bytes the client signed (<see cref="S3Body"/>), by its
/// <c>x-amz-content-sha256</c>: a SHA-256 (checked at the end: XAmzContentSHA256Mismatch), <c>UNSIGNED-PAYLOAD</c>,
/// or aws-chunked (<c>STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]</c>, each chunk's signature checked;
/// <c>STREAMING-UNSIGNED-PAYLOAD-TRAILER</c>). A flexible checksum (<c>x-amz-checksum-*</c> header, or trailer named
/// by <c>x-amz-trailer</c>) and Content-MD5 are checked too (BadDigest).
/// </summary>
public static class S3RequestBody
{
    /// <summary>The body of the request in <paramref name="context"/>, at most <paramref name="maxBytes"/> bytes.</summary>
    /// <exception cref="S3ErrorException">MissingContentLength, EntityTooLarge, InvalidRequest (inconsistent checksum headers), InvalidDigest.</exception>
    public static S3Body Open(HttpContext context, long maxBytes)
    {
        var signed = context.Features.Get<S3SignedRequest>() ?? throw S3Errors.AccessDenied("the request is not signed");
        var request = context.Request;
        var mode = signed.PayloadHash;
        var chunked = mode is SigV4.StreamingPayload or SigV4.StreamingPayloadTrailer or SigV4.StreamingUnsignedPayloadTrailer;
        long length;
        if (chunked)
        {
            var decoded = request.Headers["x-amz-decoded-content-length"].ToString();
            if (decoded.Length == 0)
                throw S3Errors.MissingContentLength($"an aws-chunked body ({mode}) needs x-amz-decoded-content-length");
            if (!long.TryParse(decoded, NumberStyles.None, CultureInfo.InvariantCulture, out length))
                throw S3Errors.InvalidArgument("x-amz-decoded-content-length", "must be a whole number of bytes", decoded);
        }
        else
        {
            length = request.ContentLength ?? throw S3Errors.MissingContentLength("You must provide the Content-Length HTTP header.");
        }

        if (length > maxBytes)
            throw S3Errors.EntityTooLarge($"Your proposed upload exceeds the maximum allowed size: {length} bytes, of at most {maxBytes}.");
        // The gateway's small default body limit is for JSON; an object's announced length bounds this one.
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
            limit.MaxRequestBodySize = null;

        Stream body = request.Body;
        AwsChunkedStream? decoder = null;
        var trailers = request.Headers["x-amz-trailer"].ToString().Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Select(t => t.ToLowerInvariant()).ToList();
        if (chunked)
        {
            var signer = mode == SigV4.StreamingUnsignedPayloadTrailer
                ? null
                : new ChunkSigner(signed.SigningKey, signed.Claim.AmzDate, signed.Claim.Scope, signed.Claim.Signature);
            decoder = new AwsChunkedStream(body, signer, trailer: mode != SigV4.StreamingPayload);
            body = decoder;
        }

        if (trailers.Count > 0 && mode is not (SigV4.StreamingPayloadTrailer or SigV4.StreamingUnsignedPayloadTrailer))
            throw S3Errors.InvalidRequest($"x-amz-trailer needs a trailer payload mode ({SigV4.StreamingPayloadTrailer} or {SigV4.StreamingUnsignedPayloadTrailer}); x-amz-content-sha256 is {mode}");
        var (checksum, expected) = Checksum(request, trailers, decoder);
        var md5 = request.Headers.ContentMD5.ToString();
        if (md5.Length > 0 && !IsBase64Of(md5, 16))
            throw S3Errors.InvalidDigest("Content-MD5");
        var signedSha256 = mode.Length == 64 && mode.All(char.IsAsciiHexDigitLower) ? mode : null;
        return new S3Body(body, length, signedSha256, md5.Length > 0 ? md5 : null, checksum, expected);
    }

    private static (S3Checksum? Checksum, Func<string?>? Expected) Checksum(HttpRequest request, List<string> trailers, AwsChunkedStream? decoder)
    {
        const string Prefix = "x-amz-checksum-";
        var headers = S3Checksum.Names.Where(n => request.Headers.ContainsKey(Prefix + n)).ToList();
        var trailed = trailers.Where(t => t.StartsWith(Prefix, StringComparison.Ordinal)).ToList();
        if (trailers.Count > trailed.Count)
            throw S3Errors.InvalidRequest($"x-amz-trailer may name only checksums ({Prefix}NAME); got '{string.Join(", ", trailers)}'");
        if (headers.Count + trailed.Count > 1)
            throw S3Errors.InvalidRequest("Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.");
        if (headers.Count == 1)
        {
            var value = request.Headers[Prefix + headers[0]].ToString();
            return (S3Checksum.Create(headers[0]), () => value);
        }

        if (trailed.Count == 1)
        {
            var name = trailed[0];
            var checksum = S3Checksum.Create(name[Prefix.Length..])
                ?? throw S3Errors.InvalidRequest($"x-amz-trailer names {name}; the checksums served are {string.Join(", ", S3Checksum.Names)}");
            return (checksum, () => decoder!.Trailers.TryGetValue(name, out var value) ? value : null);
        }

        return (null, null);
    }

    private static bool IsBase64Of(string text, int bytes)
    {
        Span<byte> buffer = stackalloc byte[bytes + 3];
        return Convert.TryFromBase64String(text, buffer, out var written) && written == bytes;
    }
}
