using System.Security.Cryptography;
using System.Text;

namespace PoolAI.Gateway.S3.Signing;

/// <summary>
/// AWS Signature Version 4 as S3 uses it: canonical request, string to sign, signing key and signature
/// (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html and
/// https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html), and the strings to sign of
/// aws-chunked bodies (https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html,
/// https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming-trailers.html). S3 encodes the path once
/// (no double encoding, no dot-segment normalisation).
/// </summary>
public static class SigV4
{
    /// <summary>The only algorithm served.</summary>
    public const string Algorithm = "AWS4-HMAC-SHA256";

    /// <summary>The service name in the credential scope.</summary>
    public const string Service = "s3";

    /// <summary>The credential scope's last part.</summary>
    public const string Terminator = "aws4_request";

    /// <summary>SHA-256 of no bytes, lower-case hex.</summary>
    public const string EmptySha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    /// <summary><c>x-amz-content-sha256</c>: the body is not signed.</summary>
    public const string UnsignedPayload = "UNSIGNED-PAYLOAD";

    /// <summary><c>x-amz-content-sha256</c>: aws-chunked body, every chunk signed.</summary>
    public const string StreamingPayload = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD";

    /// <summary><c>x-amz-content-sha256</c>: aws-chunked body, every chunk signed, then signed trailing headers (checksums).</summary>
    public const string StreamingPayloadTrailer = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER";

    /// <summary><c>x-amz-content-sha256</c>: aws-chunked body, unsigned, then trailing headers (a checksum).</summary>
    public const string StreamingUnsignedPayloadTrailer = "STREAMING-UNSIGNED-PAYLOAD-TRAILER";

    /// <summary>The <c>x-amz-date</c> format, e.g. <c>20130524T000000Z</c>.</summary>
    public const string TimeFormat = "yyyyMMdd'T'HHmmss'Z'";

    /// <summary>
    /// Percent-encodes <paramref name="value"/>'s UTF-8 bytes as SigV4 does: <c>A–Z a–z 0–9 - . _ ~</c> stay, every
    /// other byte becomes <c>%XY</c> (upper-case hex), <c>/</c> too unless <paramref name="keepSlash"/> (paths).
    /// </summary>
    public static string UriEncode(string value, bool keepSlash)
    {
        var text = new StringBuilder(value.Length + 8);
        foreach (var b in Encoding.UTF8.GetBytes(value))
        {
            var c = (char)b;
            if (char.IsAsciiLetterOrDigit(c) || c is '-' or '.' or '_' or '~' || (keepSlash && c == '/'))
                text.Append(c);
            else
                text.Append('%').Append(Convert.ToHexString([b]));
        }

        return text.ToString();
    }

    /// <summary>
    /// The canonical query string of <paramref name="parameters"/> (decoded names and values): each encoded with
    /// <see cref="UriEncode"/>, sorted by name then value (ordinal), as <c>name=value</c> joined by <c>&amp;</c>.
    /// </summary>
    public static string CanonicalQuery(IEnumerable<KeyValuePair<string, string>> parameters) => string.Join('&', parameters
        .Select(p => (Name: UriEncode(p.Key, keepSlash: false), Value: UriEncode(p.Value, keepSlash: false)))
        .OrderBy(p => p.Name, StringComparer.Ordinal).ThenBy(p => p.Value, StringComparer.Ordinal)
        .Select(p => $"{p.Name}={p.Value}"));

    /// <summary>A header value as canonical headers carry it: trimmed, runs of spaces made one.</summary>
    public static string CanonicalHeaderValue(string value)
    {
        var text = new StringBuilder(value.Length);
        var space = false;
        foreach (var c in value.Trim())
        {
            if (c == ' ')
            {
                if (!space)
                    text.Append(' ');
                space = true;
                continue;
            }

            space = false;
            text.Append(c);
        }

        return text.ToString();
    }

    /// <summary>
    /// The canonical request: method, canonical URI, canonical query, the signed headers as <c>name:value</c> lines
    /// (<paramref name="headers"/>: lower-case names in signed order, canonical values), the signed header names, and
    /// the payload hash, separated by newlines.
    /// </summary>
    public static string CanonicalRequest(string method, string canonicalUri, string canonicalQuery, IReadOnlyList<KeyValuePair<string, string>> headers, string payloadHash)
    {
        var text = new StringBuilder();
        text.Append(method).Append('\n').Append(canonicalUri).Append('\n').Append(canonicalQuery).Append('\n');
        foreach (var (name, value) in headers)
            text.Append(name).Append(':').Append(value).Append('\n');
        text.Append('\n').Append(string.Join(';', headers.Select(h => h.Key))).Append('\n').Append(payloadHash);
        return text.ToString();
    }

    /// <summary>The credential scope, <c>yyyyMMdd/region/s3/aws4_request</c>.</summary>
    public static string Scope(string date, string region) => $"{date}/{region}/{Service}/{Terminator}";

    /// <summary>The string to sign of a request: algorithm, time (<see cref="TimeFormat"/>), scope and the canonical request's SHA-256.</summary>
    public static string StringToSign(string amzDate, string scope, string canonicalRequest) =>
        $"{Algorithm}\n{amzDate}\n{scope}\n{Sha256Hex(Encoding.UTF8.GetBytes(canonicalRequest))}";

    /// <summary>The string to sign of one aws-chunked chunk: the previous signature (the seed for the first chunk) and the chunk's SHA-256.</summary>
    public static string ChunkStringToSign(string amzDate, string scope, string previousSignature, string chunkSha256) =>
        $"{Algorithm}-PAYLOAD\n{amzDate}\n{scope}\n{previousSignature}\n{EmptySha256}\n{chunkSha256}";

    /// <summary>The string to sign of trailing headers: the final chunk's signature and the SHA-256 of the canonical trailers (<c>name:value\n</c> each, sorted).</summary>
    public static string TrailerStringToSign(string amzDate, string scope, string previousSignature, string canonicalTrailers) =>
        $"{Algorithm}-TRAILER\n{amzDate}\n{scope}\n{previousSignature}\n{Sha256Hex(Encoding.UTF8.GetBytes(canonicalTrailers))}";

    /// <summary>The signing key: HMAC chain of <c>"AWS4" + secret</c>, date (<c>yyyyMMdd</c>), region, <c>s3</c>, <c>aws4_request</c>.</summary>
    public static byte[] SigningKey(string secret, string date, string region)
    {
        var key = HMACSHA256.HashData(Encoding.UTF8.GetBytes("AWS4" + secret), Encoding.UTF8.GetBytes(date));
        key = HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(region));
        key = HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(Service));
        return HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(Terminator));
    }

    /// <summary>The signature of <paramref name="stringToSign"/>: HMAC-SHA256 under the signing key, lower-case hex.</summary>
    public static string Sign(byte[] signingKey, string stringToSign) =>
        Convert.ToHexStringLower(HMACSHA256.HashData(signingKey, Encoding.UTF8.GetBytes(stringToSign)));

    /// <summary>True when <paramref name="given"/> is <paramref name="expected"/> (hex, any case), compared in constant time.</summary>
    public static bool SignaturesEqual(string expected, string given) => CryptographicOperations.FixedTimeEquals(
        Encoding.ASCII.GetBytes(expected), Encoding.ASCII.GetBytes(given.ToLowerInvariant()));

    /// <summary>SHA-256 of <paramref name="bytes"/>, lower-case hex.</summary>
    public static string Sha256Hex(ReadOnlySpan<byte> bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));
}
