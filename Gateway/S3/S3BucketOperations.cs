using System.Globalization;
using System.Text;
using PoolAI.Gateway.S3.Body;
using PoolAI.Volumes;

namespace PoolAI.Gateway.S3;

/// <summary>The service and bucket operations: ListBuckets, HeadBucket, CreateBucket (of a volume that exists), GetBucketLocation, ListObjects (v1 and v2), DeleteObjects.</summary>
public static class S3BucketOperations
{
    /// <summary>ListBuckets: every volume.</summary>
    public static async Task<IResult> ListBucketsAsync(S3Call call)
    {
        var buckets = await call.Store.ListBucketsAsync(call.Aborted);
        return S3Result.Xml(S3Xml.WriteBuckets(buckets.OrderBy(b => b.Name, StringComparer.Ordinal).ToList(), call.Context.User.FindFirst("sub")?.Value ?? ""));
    }

    /// <summary>HeadBucket: 200 when the volume exists, else 404.</summary>
    public static async Task<IResult> HeadBucketAsync(S3Call call) => await call.Store.BucketExistsAsync(call.BucketName, call.Aborted)
        ? S3Result.Empty(StatusCodes.Status200OK, new KeyValuePair<string, string>("x-amz-bucket-region", call.Options.Region))
        : S3Result.Error(S3Errors.NoSuchBucket(call.BucketName));

    /// <summary>CreateBucket: 200 for a volume that exists (as S3 in us-east-1 answers its owner); volumes themselves are made with <c>poolai volume create</c>.</summary>
    public static async Task<IResult> CreateBucketAsync(S3Call call) => await call.Store.BucketExistsAsync(call.BucketName, call.Aborted)
        ? S3Result.Empty(StatusCodes.Status200OK, new KeyValuePair<string, string>("Location", "/" + call.BucketName))
        : S3Result.Error(S3Errors.NotImplemented($"Buckets are PoolAI volumes: create '{call.BucketName}' with `poolai volume create {call.BucketName}`."));

    /// <summary>GetBucketLocation: the configured region.</summary>
    public static async Task<IResult> GetLocationAsync(S3Call call) => await call.Store.BucketExistsAsync(call.BucketName, call.Aborted)
        ? S3Result.Xml(S3Xml.WriteLocation(call.Options.Region))
        : S3Result.Error(S3Errors.NoSuchBucket(call.BucketName));

    /// <summary>
    /// ListObjectsV2 (<paramref name="version"/> 2: <c>prefix</c>, <c>delimiter</c>, <c>max-keys</c> 0–1000,
    /// <c>continuation-token</c>, <c>start-after</c>, <c>encoding-type=url</c>) or ListObjects (1: <c>marker</c>
    /// instead of the last two).
    /// </summary>
    public static async Task<IResult> ListObjectsAsync(S3Call call, int version)
    {
        var query = call.Target;
        var prefix = query["prefix"] ?? "";
        var delimiter = query["delimiter"] is { Length: > 0 } d ? d : null;
        var maxKeys = 1000;
        if (query["max-keys"] is { } maxText && (!int.TryParse(maxText, NumberStyles.None, CultureInfo.InvariantCulture, out maxKeys)))
            throw S3Errors.InvalidArgument("max-keys", "must be a whole number from 0 to 1000", maxText);
        maxKeys = Math.Min(maxKeys, 1000);
        var encoding = query["encoding-type"];
        if (encoding is not (null or "url"))
            throw S3Errors.InvalidArgument("encoding-type", "must be 'url'", encoding);
        string? token = null;
        string? startAfter;
        string? after;
        if (version == 2)
        {
            token = query["continuation-token"];
            startAfter = query["start-after"] is { Length: > 0 } s ? s : null;
            after = token is not null ? DecodeToken(token) : startAfter;
        }
        else
        {
            startAfter = query["marker"] is { Length: > 0 } m ? m : null;
            after = startAfter;
        }

        VolumeListing listing;
        if (maxKeys == 0)
        {
            if (!await call.Store.BucketExistsAsync(call.BucketName, call.Aborted))
                throw S3Errors.NoSuchBucket(call.BucketName);
            listing = new VolumeListing([], [], null);
        }
        else
        {
            listing = await call.Store.ListObjectsAsync(call.BucketName, new ListRequest(prefix, delimiter, after, maxKeys), call.Aborted);
        }

        var next = listing.NextStartAfter is null ? null : version == 2 ? EncodeToken(listing.NextStartAfter) : listing.NextStartAfter;
        return S3Result.Xml(S3Xml.WriteListing(new S3ListPage(version, call.BucketName, prefix, delimiter, maxKeys, startAfter, token, next, encoding == "url", listing)));
    }

    /// <summary>DeleteObjects: deletes each key named (missing ones count as deleted, as S3); the answer lists them and any that failed.</summary>
    public static async Task<IResult> DeleteObjectsAsync(S3Call call)
    {
        await using var body = S3RequestBody.Open(call.Context, S3Xml.MaxRequestBytes);
        var (quiet, keys) = S3Xml.ReadDelete(await body.ReadAllAsync(S3Xml.MaxRequestBytes, call.Aborted));
        var deleted = new List<string>();
        var failed = new List<(string, S3ErrorException)>();
        foreach (var key in keys)
        {
            try
            {
                await call.Store.DeleteObjectAsync(call.BucketName, VolumeNames.CheckPath(key, "key"), call.Aborted);
                deleted.Add(key);
            }
            catch (Exception e) when (S3Errors.From(e, key) is { } error)
            {
                if (error.Code == "NoSuchBucket")
                    throw error;
                failed.Add((key, error));
            }
        }

        return S3Result.Xml(S3Xml.WriteDeleted(deleted, failed, quiet));
    }

    /// <summary>The continuation token of a listing that goes on after <paramref name="startAfter"/>: its UTF-8, base64url.</summary>
    public static string EncodeToken(string startAfter) =>
        Convert.ToBase64String(Encoding.UTF8.GetBytes(startAfter)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    /// <summary>The key a continuation token goes on after.</summary>
    /// <exception cref="S3ErrorException">InvalidArgument: not a token this gateway gave.</exception>
    public static string DecodeToken(string token)
    {
        var base64 = token.Replace('-', '+').Replace('_', '/');
        base64 += new string('=', (4 - (base64.Length % 4)) % 4);
        try
        {
            return token.Length > 0 ? new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(Convert.FromBase64String(base64)) : throw new FormatException();
        }
        catch (Exception e) when (e is FormatException or ArgumentException)
        {
            throw S3Errors.InvalidArgument("continuation-token", "The continuation token provided is incorrect: pass the NextContinuationToken of the previous page", token);
        }
    }
}
