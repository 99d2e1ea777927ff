using PoolAI.Gateway.S3.Signing;

namespace PoolAI.Gateway.S3;

/// <summary>One S3 request being served.</summary>
/// <param name="Context">The HTTP context (its signature already checked).</param>
/// <param name="Store">Where objects live.</param>
/// <param name="Target">The path and query as signed.</param>
/// <param name="Bucket">The bucket (a valid volume name), or null for the service.</param>
/// <param name="Key">The object key (a checked volume path), or null for the bucket.</param>
/// <param name="Options">The S3 settings.</param>
public sealed record S3Call(HttpContext Context, IS3ObjectStore Store, RequestTarget Target, string? Bucket, string? Key, S3Options Options)
{
    /// <summary>The request.</summary>
    public HttpRequest Request => Context.Request;

    /// <summary>Cancelled when the client goes away.</summary>
    public CancellationToken Aborted => Context.RequestAborted;

    /// <summary>The bucket of a bucket or object request.</summary>
    public string BucketName => Bucket ?? throw new InvalidOperationException("not a bucket request");

    /// <summary>The key of an object request.</summary>
    public string KeyName => Key ?? throw new InvalidOperationException("not an object request");

    /// <summary>The first value of request header <paramref name="name"/>, or null.</summary>
    public string? Header(string name) => Request.Headers[name] is { Count: > 0 } values ? values.ToString() : null;
}
