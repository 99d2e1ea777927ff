using System.Globalization;
using PoolAI.Gateway.S3.Body;
using PoolAI.Gateway.S3.Signing;

namespace PoolAI.Gateway.S3;

/// <summary>Multipart uploads: CreateMultipartUpload, UploadPart, CompleteMultipartUpload, AbortMultipartUpload.</summary>
public static class S3MultipartOperations
{
    /// <summary>Most parts of one upload, as S3.</summary>
    public const int MaxParts = 10_000;

    /// <summary>CreateMultipartUpload: the new upload's id (32 hex digits).</summary>
    public static async Task<IResult> CreateAsync(S3Call call)
    {
        var upload = await call.Store.CreateMultipartUploadAsync(call.BucketName, call.KeyName, call.Aborted);
        return S3Result.Xml(S3Xml.WriteUploadStarted(call.BucketName, call.KeyName, upload.ToString("N")));
    }

    /// <summary>UploadPart: streams part <c>partNumber</c> (1–10000) of <c>uploadId</c> into the store; answers its ETag.</summary>
    public static async Task<IResult> UploadPartAsync(S3Call call)
    {
        var upload = UploadId(call);
        var partText = call.Target["partNumber"];
        if (!int.TryParse(partText, NumberStyles.None, CultureInfo.InvariantCulture, out var part) || part is < 1 or > MaxParts)
            throw S3Errors.InvalidArgument("partNumber", $"Part number must be an integer between 1 and {MaxParts}, inclusive", partText);
        await using var body = S3RequestBody.Open(call.Context, call.Options.MaxObjectBytes);
        var etag = await call.Store.UploadPartAsync(call.BucketName, call.KeyName, upload, part, body, body.ContentLength, call.Aborted);
        return S3ObjectOperations.Stored(body, etag);
    }

    /// <summary>CompleteMultipartUpload: the object becomes the parts the body names, in ascending order.</summary>
    public static async Task<IResult> CompleteAsync(S3Call call)
    {
        var upload = UploadId(call);
        await using var body = S3RequestBody.Open(call.Context, S3Xml.MaxRequestBytes);
        var parts = S3Xml.ReadCompleteUpload(await body.ReadAllAsync(S3Xml.MaxRequestBytes, call.Aborted));
        for (var i = 1; i < parts.Count; i++)
        {
            if (parts[i].PartNumber <= parts[i - 1].PartNumber)
                throw S3Errors.InvalidPartOrder($"The list of parts was not in ascending order: part {parts[i].PartNumber} follows part {parts[i - 1].PartNumber}.");
        }

        var file = await call.Store.CompleteMultipartUploadAsync(call.BucketName, call.KeyName, upload, parts, call.Aborted);
        var request = call.Request;
        var location = $"{request.Scheme}://{request.Host}{request.PathBase}{S3Api.Prefix}/{call.BucketName}/{SigV4.UriEncode(call.KeyName, keepSlash: true)}";
        return S3Result.Xml(S3Xml.WriteUploadCompleted(location, call.BucketName, call.KeyName, file.ETag));
    }

    /// <summary>AbortMultipartUpload: 204; the parts are deleted.</summary>
    public static async Task<IResult> AbortAsync(S3Call call)
    {
        await call.Store.AbortMultipartUploadAsync(call.BucketName, call.KeyName, UploadId(call), call.Aborted);
        return S3Result.Empty(StatusCodes.Status204NoContent);
    }

    private static Guid UploadId(S3Call call)
    {
        var text = call.Target["uploadId"] ?? "";
        return Guid.TryParseExact(text, "N", out var upload) ? upload : throw S3Errors.NoSuchUpload(text);
    }
}
