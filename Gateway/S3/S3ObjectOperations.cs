using System.Globalization;
using PoolAI.Gateway.S3.Body;
using PoolAI.Volumes;

namespace PoolAI.Gateway.S3;

/// <summary>The object operations: PutObject, GetObject (ranges, conditions), HeadObject, DeleteObject, CopyObject.</summary>
public static partial class S3ObjectOperations
{
    /// <summary>The content type of every object: the gateway keeps no metadata.</summary>
    public const string ContentType = "application/octet-stream";

    /// <summary>Query parameters of a GET that set the answer's headers (as presigned URLs use them).</summary>
    private static readonly (string Parameter, string Header)[] ResponseOverrides =
    [
        ("response-content-type", "Content-Type"), ("response-content-disposition", "Content-Disposition"), ("response-content-encoding", "Content-Encoding"),
        ("response-content-language", "Content-Language"), ("response-cache-control", "Cache-Control"), ("response-expires", "Expires"),
    ];

    /// <summary>PutObject: streams the body into the store; answers its ETag (and the checksum the client sent, verified).</summary>
    public static async Task<IResult> PutAsync(S3Call call)
    {
        RefuseCustomerKeys(call);
        await using var body = S3RequestBody.Open(call.Context, call.Options.MaxObjectBytes);
        var file = await call.Store.PutObjectAsync(call.BucketName, call.KeyName, body, body.ContentLength, call.Aborted);
        return Stored(body, file.ETag);
    }

    /// <summary>GetObject and HeadObject: the object (or the range asked for, 206) with its ETag, length and time; 304/412 for conditions.</summary>
    public static async Task<IResult> GetAsync(S3Call call, bool head)
    {
        RefuseCustomerKeys(call);
        IS3ObjectVersion? version = null;
        VolumeFile file;
        if (head)
            file = await call.Store.HeadObjectAsync(call.BucketName, call.KeyName, call.Aborted) ?? throw S3Errors.NoSuchKey(call.KeyName);
        else
            file = (version = await call.Store.OpenAsync(call.BucketName, call.KeyName, call.Aborted)).File;

        if (Precondition(call, file) is { } unmet)
            return unmet;
        var range = Range(call, file);
        var (offset, length) = range is { } r ? (r.Offset, r.Length) : (0L, file.Length);
        var stream = version is null || length == 0 ? null : await version.ReadAsync(offset, length, call.Aborted);
        if (stream is not null)
            call.Context.Response.RegisterForDisposeAsync(stream);
        return new S3Result(async context =>
        {
            var response = context.Response;
            response.StatusCode = range is null ? StatusCodes.Status200OK : StatusCodes.Status206PartialContent;
            response.Headers["x-amz-request-id"] = S3Result.RequestId(context);
            Describe(response, file);
            response.ContentType = ContentType;
            foreach (var (parameter, header) in ResponseOverrides)
            {
                if (call.Target[parameter] is { } value)
                    response.Headers[header] = value;
            }

            if (range is { } partial)
                response.Headers.ContentRange = partial.ContentRange(file.Length);
            response.ContentLength = length;
            if (stream is null)
                return;
            try
            {
                await stream.CopyToAsync(response.Body, context.RequestAborted);
            }
            catch (Exception e) when (!context.RequestAborted.IsCancellationRequested)
            {
                // The status is sent: end the connection, so that the client sees a short body rather than a whole one.
                LogReadFailure(context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(S3ObjectOperations)), e, call.BucketName, call.KeyName);
                context.Abort();
            }
        });
    }

    /// <summary>DeleteObject: 204, also when there was no such key (as S3).</summary>
    public static async Task<IResult> DeleteAsync(S3Call call)
    {
        await call.Store.DeleteObjectAsync(call.BucketName, call.KeyName, call.Aborted);
        return S3Result.Empty(StatusCodes.Status204NoContent);
    }

    /// <summary>
    /// CopyObject: streams the current version of <c>x-amz-copy-source</c> (<c>/bucket/key</c>, URL-encoded) into
    /// the key. A copy onto itself needs <c>x-amz-metadata-directive: REPLACE</c>, as S3.
    /// </summary>
    public static async Task<IResult> CopyAsync(S3Call call)
    {
        RefuseCustomerKeys(call);
        var source = Uri.UnescapeDataString(call.Header("x-amz-copy-source") ?? "");
        var question = source.IndexOf('?', StringComparison.Ordinal);
        if (question >= 0)
        {
            if (source[(question + 1)..] != "versionId=null")
                throw S3Errors.NotImplemented("Copying a version (versionId) is not supported: volumes keep only the current version.");
            source = source[..question];
        }

        var slash = source.TrimStart('/').IndexOf('/', StringComparison.Ordinal);
        if (slash <= 0)
            throw S3Errors.InvalidArgument("x-amz-copy-source", "must be /bucket/key", source);
        var sourceBucket = source.TrimStart('/')[..slash];
        if (!VolumeNames.IsValid(sourceBucket))
            throw S3Errors.InvalidBucketName(sourceBucket);
        var sourceKey = VolumeNames.CheckPath(source.TrimStart('/')[(slash + 1)..], "x-amz-copy-source");
        if (sourceBucket == call.BucketName && sourceKey == call.KeyName && !string.Equals(call.Header("x-amz-metadata-directive"), "REPLACE", StringComparison.OrdinalIgnoreCase))
        {
            throw S3Errors.InvalidRequest(
                "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.");
        }

        var version = await call.Store.OpenAsync(sourceBucket, sourceKey, call.Aborted);
        if (call.Header("x-amz-copy-source-if-match") is { } ifMatch && !ETagMatches(ifMatch, version.File.ETag))
            throw S3Errors.PreconditionFailed("x-amz-copy-source-if-match");
        if (call.Header("x-amz-copy-source-if-none-match") is { } ifNoneMatch && ETagMatches(ifNoneMatch, version.File.ETag))
            throw S3Errors.PreconditionFailed("x-amz-copy-source-if-none-match");
        if (version.File.Length > call.Options.MaxObjectBytes)
            throw S3Errors.InvalidRequest($"The specified copy source is larger than the maximum allowable size for a copy source: {call.Options.MaxObjectBytes}");
        await using var bytes = version.File.Length == 0 ? Stream.Null : await version.ReadAsync(0, version.File.Length, call.Aborted);
        var copy = await call.Store.PutObjectAsync(call.BucketName, call.KeyName, bytes, version.File.Length, call.Aborted);
        return S3Result.Xml(S3Xml.WriteCopied(copy));
    }

    /// <summary>The answer to a stored body: 200 with its ETag and the flexible checksum the client sent (verified).</summary>
    public static IResult Stored(S3Body body, string etag)
    {
        if (!body.IsComplete)
            throw new InvalidOperationException("the object store returned before reading the whole body");
        var headers = new List<KeyValuePair<string, string>> { new("ETag", etag) };
        if (body.VerifiedChecksum is { } checksum)
            headers.Add(checksum);
        return S3Result.Empty(StatusCodes.Status200OK, headers);
    }

    /// <summary>True when the If-Match style <paramref name="condition"/> (<c>*</c>, or ETags separated by commas, quoted or not, weak or strong) matches <paramref name="etag"/>.</summary>
    public static bool ETagMatches(string condition, string etag) => condition.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
        .Any(c => c == "*" || Unquote(c) == Unquote(etag));

    private static IResult? Precondition(S3Call call, VolumeFile file)
    {
        var modified = TruncateToSeconds(file.Modified);
        if (call.Header("If-Match") is { } ifMatch && !ETagMatches(ifMatch, file.ETag))
            throw S3Errors.PreconditionFailed("If-Match");
        if (call.Header("If-Match") is null && HttpDate(call.Header("If-Unmodified-Since")) is { } unmodifiedSince && modified > unmodifiedSince)
            throw S3Errors.PreconditionFailed("If-Unmodified-Since");
        if (call.Header("If-None-Match") is { } ifNoneMatch)
        {
            if (ETagMatches(ifNoneMatch, file.ETag))
                return NotModified(file);
        }
        else if (HttpDate(call.Header("If-Modified-Since")) is { } modifiedSince && modified <= modifiedSince)
        {
            return NotModified(file);
        }

        return null;
    }

    private static S3Result NotModified(VolumeFile file) => new(context =>
    {
        context.Response.StatusCode = StatusCodes.Status304NotModified;
        context.Response.Headers["x-amz-request-id"] = S3Result.RequestId(context);
        Describe(context.Response, file);
        return Task.CompletedTask;
    });

    private static S3Range? Range(S3Call call, VolumeFile file)
    {
        if (call.Target["partNumber"] is not { } partText)
            return S3Range.Resolve(call.Header("Range"), file.Length);
        if (call.Header("Range") is not null)
            throw S3Errors.InvalidRequest("Cannot specify both Range header and partNumber query parameter");
        if (!int.TryParse(partText, NumberStyles.None, CultureInfo.InvariantCulture, out var part) || part is < 1 or > 10000)
            throw S3Errors.InvalidArgument("partNumber", "must be a whole number from 1 to 10000", partText);
        // Parts are not kept apart once an upload completes: every object reads as one part.
        if (part != 1)
            throw new S3ErrorException(StatusCodes.Status416RangeNotSatisfiable, "InvalidPartNumber", "The requested partnumber is not satisfiable");
        return file.Length == 0 ? null : new S3Range(0, file.Length);
    }

    private static void Describe(HttpResponse response, VolumeFile file)
    {
        response.Headers.ETag = file.ETag;
        response.Headers.LastModified = file.Modified.UtcDateTime.ToString("r", CultureInfo.InvariantCulture);
        response.Headers.AcceptRanges = "bytes";
    }

    private static void RefuseCustomerKeys(S3Call call)
    {
        if (call.Request.Headers.Keys.Any(h => h.StartsWith("x-amz-server-side-encryption-customer-", StringComparison.OrdinalIgnoreCase)))
            throw S3Errors.NotImplemented("Server-side encryption with customer keys (SSE-C) is not supported.");
    }

    private static DateTimeOffset? HttpDate(string? text) =>
        DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var time) ? time : null;

    private static DateTimeOffset TruncateToSeconds(DateTimeOffset time) => new(time.Ticks - (time.Ticks % TimeSpan.TicksPerSecond), time.Offset);

    private static string Unquote(string etag) => (etag.StartsWith("W/", StringComparison.Ordinal) ? etag[2..] : etag).Trim('"');

    [LoggerMessage(Level = LogLevel.Error, Message = "S3: reading {Bucket}/{Key} failed after its answer began")]
    private static partial void LogReadFailure(ILogger logger, Exception exception, string bucket, string key);
}
