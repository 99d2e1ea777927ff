using System.Globalization;
using PoolAI.Jobs;
using PoolAI.Volumes;

namespace PoolAI.Gateway.S3;

/// <summary>
/// The S3 errors the gateway answers, with S3's codes and statuses
/// (https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html), and the translation of the pool's own
/// exceptions into them.
/// </summary>
public static class S3Errors
{
    /// <summary>403 AccessDenied.</summary>
    public static S3ErrorException AccessDenied(string message) => new(403, "AccessDenied", message);

    /// <summary>403 InvalidAccessKeyId: no such key, or it is revoked.</summary>
    public static S3ErrorException InvalidAccessKeyId(string message) => new(403, "InvalidAccessKeyId", message);

    /// <summary>403 SignatureDoesNotMatch, with the string to sign and canonical request the server computed (as S3 gives them) when known.</summary>
    public static S3ErrorException SignatureDoesNotMatch(string message, string? stringToSign = null, string? canonicalRequest = null) =>
        new(403, "SignatureDoesNotMatch", message)
        {
            Details = stringToSign is null ? [] : [new("StringToSign", stringToSign), new("CanonicalRequest", canonicalRequest ?? "")],
        };

    /// <summary>403 RequestTimeTooSkewed.</summary>
    public static S3ErrorException RequestTimeTooSkewed(DateTimeOffset requestTime, DateTimeOffset serverTime, TimeSpan allowed) => new(403, "RequestTimeTooSkewed",
        $"The difference between the request time ({Time(requestTime)}) and the server's time ({Time(serverTime)}) is more than {allowed.TotalMinutes:0} minutes.")
    {
        Details = [new("RequestTime", Time(requestTime)), new("ServerTime", Time(serverTime)), new("MaxAllowedSkewMilliseconds", ((long)allowed.TotalMilliseconds).ToString(CultureInfo.InvariantCulture))],
    };

    /// <summary>400 AuthorizationHeaderMalformed.</summary>
    public static S3ErrorException AuthorizationHeaderMalformed(string message) => new(400, "AuthorizationHeaderMalformed", message);

    /// <summary>400 AuthorizationQueryParametersError (a presigned URL's parameters).</summary>
    public static S3ErrorException AuthorizationQueryParametersError(string message) => new(400, "AuthorizationQueryParametersError", message);

    /// <summary>404 NoSuchBucket.</summary>
    public static S3ErrorException NoSuchBucket(string bucket) => new(404, "NoSuchBucket", "The specified bucket does not exist.")
    {
        Details = [new("BucketName", bucket)],
    };

    /// <summary>404 NoSuchKey.</summary>
    public static S3ErrorException NoSuchKey(string key) => new(404, "NoSuchKey", "The specified key does not exist.") { Details = [new("Key", key)] };

    /// <summary>404 NoSuchUpload.</summary>
    public static S3ErrorException NoSuchUpload(string upload, string? why = null) =>
        new(404, "NoSuchUpload", why ?? "The specified multipart upload does not exist.") { Details = [new("UploadId", upload)] };

    /// <summary>400 InvalidArgument naming the argument and the rule it breaks.</summary>
    public static S3ErrorException InvalidArgument(string argument, string rule, string? value = null) => new(400, "InvalidArgument", $"{argument}: {rule}")
    {
        Details = value is null ? [new("ArgumentName", argument)] : [new("ArgumentName", argument), new("ArgumentValue", value)],
    };

    /// <summary>400 InvalidBucketName.</summary>
    public static S3ErrorException InvalidBucketName(string bucket) => new(400, "InvalidBucketName",
        $"bucket: must be 3 to {VolumeNames.MaxNameLength} characters of a-z, 0-9 and '-', starting and ending with a letter or digit (got '{bucket}')")
    {
        Details = [new("BucketName", bucket)],
    };

    /// <summary>416 InvalidRange, with <c>Content-Range: bytes */length</c>.</summary>
    public static S3ErrorException InvalidRange(string range, long length) => new(416, "InvalidRange", $"The requested range ({range}) is not satisfiable: the object has {length} bytes.")
    {
        Details = [new("RangeRequested", range), new("ActualObjectSize", length.ToString(CultureInfo.InvariantCulture))],
        Headers = [new("Content-Range", $"bytes */{length.ToString(CultureInfo.InvariantCulture)}")],
    };

    /// <summary>400 InvalidPart.</summary>
    public static S3ErrorException InvalidPart(string message) => new(400, "InvalidPart", message);

    /// <summary>400 InvalidPartOrder.</summary>
    public static S3ErrorException InvalidPartOrder(string message) => new(400, "InvalidPartOrder", message);

    /// <summary>400 EntityTooLarge.</summary>
    public static S3ErrorException EntityTooLarge(string message) => new(400, "EntityTooLarge", message);

    /// <summary>411 MissingContentLength.</summary>
    public static S3ErrorException MissingContentLength(string message) => new(411, "MissingContentLength", message);

    /// <summary>400 IncompleteBody: the body ended before the length the request announced.</summary>
    public static S3ErrorException IncompleteBody(string message) => new(400, "IncompleteBody", message);

    /// <summary>400 InvalidRequest.</summary>
    public static S3ErrorException InvalidRequest(string message) => new(400, "InvalidRequest", message);

    /// <summary>400 XAmzContentSHA256Mismatch: the body's SHA-256 is not the one signed in <c>x-amz-content-sha256</c>.</summary>
    public static S3ErrorException ContentSha256Mismatch(string claimed, string computed) => new(400, "XAmzContentSHA256Mismatch",
        "The provided 'x-amz-content-sha256' header does not match what was computed.")
    {
        Details = [new("ClientComputedContentSHA256", claimed), new("S3ComputedContentSHA256", computed)],
    };

    /// <summary>400 BadDigest: a checksum or Content-MD5 the client sent does not match the body.</summary>
    public static S3ErrorException BadDigest(string header) => new(400, "BadDigest", $"The {header} you specified did not match the calculated checksum.");

    /// <summary>400 InvalidDigest: a checksum or Content-MD5 that is not one.</summary>
    public static S3ErrorException InvalidDigest(string header) => new(400, "InvalidDigest", $"The {header} you specified is not valid.");

    /// <summary>400 MalformedXML.</summary>
    public static S3ErrorException MalformedXml(string message) => new(400, "MalformedXML", message);

    /// <summary>501 NotImplemented.</summary>
    public static S3ErrorException NotImplemented(string message) => new(501, "NotImplemented", message);

    /// <summary>405 MethodNotAllowed.</summary>
    public static S3ErrorException MethodNotAllowed(string method) => new(405, "MethodNotAllowed", $"The method {method} is not allowed against this resource.");

    /// <summary>412 PreconditionFailed.</summary>
    public static S3ErrorException PreconditionFailed(string condition) => new(412, "PreconditionFailed", $"At least one of the preconditions you specified did not hold ({condition}).")
    {
        Details = [new("Condition", condition)],
    };

    /// <summary>503 SlowDown with <c>Retry-After: 1</c>: the key's request rate is over the gateway's limit.</summary>
    public static S3ErrorException SlowDown(string message) => new(503, "SlowDown", message) { Headers = [new("Retry-After", "1")] };

    /// <summary>500 InternalError.</summary>
    public static S3ErrorException InternalError() => new(500, "InternalError", "We encountered an internal error. Please try again.");

    /// <summary>
    /// The S3 error for <paramref name="exception"/> (or the first <see cref="S3ErrorException"/> among its inner
    /// exceptions) on object <paramref name="key"/> (null for a bucket request); null when it is none the pool knows
    /// (an internal error).
    /// </summary>
    public static S3ErrorException? From(Exception exception, string? key)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            switch (e)
            {
                case S3ErrorException s3:
                    return s3;
                case VolumeNotFoundException missing:
                    return missing.Path is null ? NoSuchBucket(missing.Volume) : NoSuchKey(key ?? missing.Path);
                case JobValidationException { Field: "upload" } upload:
                    return NoSuchUpload("", $"upload: {upload.Rule}");
                case JobValidationException { Field: "parts" } parts:
                    return InvalidPart($"parts: {parts.Rule}");
                case JobValidationException { Field: "quota" } quota:
                    return EntityTooLarge($"quota: {quota.Rule}");
                case JobValidationException invalid:
                    return InvalidArgument(invalid.Field, invalid.Rule);
                case BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge } tooLarge:
                    return EntityTooLarge(tooLarge.Message);
                case BadHttpRequestException bad:
                    return IncompleteBody(bad.Message);
            }
        }

        return null;
    }

    private static string Time(DateTimeOffset time) => time.UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);
}
