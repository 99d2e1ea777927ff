using PoolAI.Gateway.S3.Signing;

namespace PoolAI.Gateway.S3;

/// <summary>The S3 operations served, told apart by method, bucket/key and query as S3 does.</summary>
public enum S3Operation
{
    /// <summary>Not served (501 NotImplemented).</summary>
    Unsupported,

    /// <summary><c>GET /</c>.</summary>
    ListBuckets,

    /// <summary><c>HEAD /bucket</c>.</summary>
    HeadBucket,

    /// <summary><c>PUT /bucket</c>: only for a bucket that exists (volumes are made with <c>poolai volume create</c>).</summary>
    CreateBucket,

    /// <summary><c>GET /bucket?location</c>.</summary>
    GetBucketLocation,

    /// <summary><c>GET /bucket</c> (version 1).</summary>
    ListObjects,

    /// <summary><c>GET /bucket?list-type=2</c>.</summary>
    ListObjectsV2,

    /// <summary><c>POST /bucket?delete</c>.</summary>
    DeleteObjects,

    /// <summary><c>PUT /bucket/key</c>.</summary>
    PutObject,

    /// <summary><c>PUT /bucket/key</c> with <c>x-amz-copy-source</c>.</summary>
    CopyObject,

    /// <summary><c>GET /bucket/key</c>.</summary>
    GetObject,

    /// <summary><c>HEAD /bucket/key</c>.</summary>
    HeadObject,

    /// <summary><c>DELETE /bucket/key</c>.</summary>
    DeleteObject,

    /// <summary><c>POST /bucket/key?uploads</c>.</summary>
    CreateMultipartUpload,

    /// <summary><c>PUT /bucket/key?partNumber=N&amp;uploadId=U</c>.</summary>
    UploadPart,

    /// <summary><c>POST /bucket/key?uploadId=U</c>.</summary>
    CompleteMultipartUpload,

    /// <summary><c>DELETE /bucket/key?uploadId=U</c>.</summary>
    AbortMultipartUpload,
}

/// <summary>Tells which <see cref="S3Operation"/> a request is.</summary>
public static class S3Operations
{
    /// <summary>Bucket sub-resources S3 has and the gateway does not serve (<c>?acl</c>, <c>?versioning</c>, …): asking for one is 501, never a listing.</summary>
    private static readonly string[] OtherSubresources =
    [
        "acl", "analytics", "accelerate", "cors", "encryption", "intelligent-tiering", "inventory", "lifecycle", "logging", "metrics",
        "notification", "object-lock", "ownershipControls", "policy", "policyStatus", "publicAccessBlock", "replication", "requestPayment",
        "tagging", "versioning", "versions", "website", "uploads", "legal-hold", "retention", "restore", "select", "torrent", "attributes",
        "partNumber",
    ];

    /// <summary>
    /// The operation of a request with <paramref name="method"/> on <paramref name="bucket"/> (null: the service)
    /// and <paramref name="key"/> (null: the bucket), its query <paramref name="target"/>, and whether it carries
    /// <c>x-amz-copy-source</c>.
    /// </summary>
    public static S3Operation Of(string method, string? bucket, string? key, RequestTarget target, bool copySource)
    {
        if (bucket is null)
            return HttpMethods.IsGet(method) ? S3Operation.ListBuckets : S3Operation.Unsupported;
        if (key is null)
        {
            var other = OtherSubresources.Any(target.Has);
            return method switch
            {
                _ when HttpMethods.IsHead(method) => S3Operation.HeadBucket,
                _ when HttpMethods.IsGet(method) && target.Has("location") => S3Operation.GetBucketLocation,
                _ when HttpMethods.IsGet(method) && !other => target["list-type"] == "2" ? S3Operation.ListObjectsV2 : S3Operation.ListObjects,
                _ when HttpMethods.IsPost(method) && target.Has("delete") => S3Operation.DeleteObjects,
                _ when HttpMethods.IsPut(method) && target.Query.Count == 0 => S3Operation.CreateBucket,
                _ => S3Operation.Unsupported,
            };
        }

        var upload = target.Has("uploadId");
        return method switch
        {
            _ when HttpMethods.IsPut(method) && upload && target.Has("partNumber") => copySource ? S3Operation.Unsupported : S3Operation.UploadPart,
            _ when HttpMethods.IsPost(method) && target.Has("uploads") => S3Operation.CreateMultipartUpload,
            _ when HttpMethods.IsPost(method) && upload => S3Operation.CompleteMultipartUpload,
            _ when HttpMethods.IsDelete(method) && upload => S3Operation.AbortMultipartUpload,
            _ when upload || target.Has("tagging") || target.Has("acl") || target.Has("retention") || target.Has("legal-hold") || target.Has("attributes") || target.Has("restore") || target.Has("select") => S3Operation.Unsupported,
            _ when HttpMethods.IsPut(method) => copySource ? S3Operation.CopyObject : S3Operation.PutObject,
            _ when HttpMethods.IsGet(method) => S3Operation.GetObject,
            _ when HttpMethods.IsHead(method) => S3Operation.HeadObject,
            _ when HttpMethods.IsDelete(method) => S3Operation.DeleteObject,
            _ => S3Operation.Unsupported,
        };
    }
}
