using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using PoolAI.Auth;
using PoolAI.Gateway.S3;
using PoolAI.Gateway.S3.Signing;

namespace PoolAI.Tests.Gateway.S3;

/// <summary>The plain rules of the S3 API: credentials, ranges, which operation a request is, listing tokens, paths.</summary>
[TestClass]
public sealed class S3RulesTests
{
    [TestMethod]
    public void AnAccessKeyIdNamesItsApiKeyAndTheSecretDependsOnlyOnKeyAndMasterSecret()
    {
        var master = Enumerable.Range(0, 32).Select(i => (byte)i).ToArray();

        Assert.AreEqual("PAI0123456789AB", S3Credentials.AccessKeyIdOf("0123456789ab"));
        Assert.AreEqual("0123456789ab", S3Credentials.KeyIdOf("PAI0123456789AB"));
        Assert.AreEqual("0123456789ab", S3Credentials.KeyIdOf("pai0123456789ab"));
        Assert.IsNull(S3Credentials.KeyIdOf("AKIAIOSFODNN7EXAMPLE"));
        Assert.IsNull(S3Credentials.KeyIdOf("PAI0123456789AZ"));
        var secret = S3Credentials.SecretFor(master, "0123456789ab");
        Assert.AreEqual(43, secret.Length);
        Assert.AreEqual(secret, S3Credentials.SecretFor(master, "0123456789ab"));
        Assert.AreNotEqual(secret, S3Credentials.SecretFor(master, "0123456789ac"));
        Assert.AreNotEqual(secret, S3Credentials.SecretFor(master.Reverse().ToArray(), "0123456789ab"));
        Assert.ThrowsExactly<ArgumentException>(() => S3Credentials.SecretFor(master.AsSpan(0, 31), "0123456789ab"));
    }

    [TestMethod]
    public void RangeHeadersResolveAsS3Does()
    {
        Assert.AreEqual(new S3Range(10, 10), S3Range.Resolve("bytes=10-19", 100));
        Assert.AreEqual(new S3Range(90, 10), S3Range.Resolve("bytes=90-", 100));
        Assert.AreEqual(new S3Range(95, 5), S3Range.Resolve("bytes=-5", 100));
        Assert.AreEqual(new S3Range(0, 100), S3Range.Resolve("bytes=-500", 100));
        Assert.AreEqual(new S3Range(98, 2), S3Range.Resolve("bytes=98-1000", 100));
        Assert.AreEqual("bytes 98-99/100", new S3Range(98, 2).ContentRange(100));
        Assert.IsNull(S3Range.Resolve(null, 100));
        Assert.IsNull(S3Range.Resolve("bytes=1-2,5-6", 100), "several ranges: the whole object");
        Assert.IsNull(S3Range.Resolve("bytes=5-2", 100), "an invalid range is ignored");
        var past = Assert.ThrowsExactly<S3ErrorException>(() => S3Range.Resolve("bytes=100-", 100));
        Assert.AreEqual(("InvalidRange", 416, "bytes */100"), (past.Code, past.Status, past.Headers.Single().Value));
        Assert.AreEqual("InvalidRange", Assert.ThrowsExactly<S3ErrorException>(() => S3Range.Resolve("bytes=0-", 0)).Code);
        Assert.AreEqual("InvalidRange", Assert.ThrowsExactly<S3ErrorException>(() => S3Range.Resolve("bytes=-0", 10)).Code);
    }

    [TestMethod]
    public void RequestsAreToldApartByMethodPathAndQueryAsS3Does()
    {
        S3Operation Of(string method, string? bucket, string? key, string query = "", bool copy = false) =>
            S3Operations.Of(method, bucket, key, Target("/s3/x" + query), copy);

        Assert.AreEqual(S3Operation.ListBuckets, Of("GET", null, null));
        Assert.AreEqual(S3Operation.ListObjectsV2, Of("GET", "b", null, "?list-type=2&prefix=a"));
        Assert.AreEqual(S3Operation.ListObjects, Of("GET", "b", null, "?marker=a"));
        Assert.AreEqual(S3Operation.GetBucketLocation, Of("GET", "b", null, "?location"));
        Assert.AreEqual(S3Operation.Unsupported, Of("GET", "b", null, "?versioning"));
        Assert.AreEqual(S3Operation.DeleteObjects, Of("POST", "b", null, "?delete"));
        Assert.AreEqual(S3Operation.PutObject, Of("PUT", "b", "k"));
        Assert.AreEqual(S3Operation.CopyObject, Of("PUT", "b", "k", copy: true));
        Assert.AreEqual(S3Operation.UploadPart, Of("PUT", "b", "k", "?partNumber=1&uploadId=u"));
        Assert.AreEqual(S3Operation.Unsupported, Of("PUT", "b", "k", "?partNumber=1&uploadId=u", copy: true), "UploadPartCopy");
        Assert.AreEqual(S3Operation.CreateMultipartUpload, Of("POST", "b", "k", "?uploads"));
        Assert.AreEqual(S3Operation.CompleteMultipartUpload, Of("POST", "b", "k", "?uploadId=u"));
        Assert.AreEqual(S3Operation.AbortMultipartUpload, Of("DELETE", "b", "k", "?uploadId=u"));
        Assert.AreEqual(S3Operation.Unsupported, Of("GET", "b", "k", "?uploadId=u"), "ListParts");
        Assert.AreEqual(S3Operation.Unsupported, Of("PUT", "b", "k", "?tagging"));
        Assert.AreEqual(S3Operation.GetObject, Of("GET", "b", "k", "?partNumber=1"));
        Assert.AreEqual(S3Operation.HeadObject, Of("HEAD", "b", "k"));
        Assert.AreEqual(S3Operation.DeleteObject, Of("DELETE", "b", "k"));
    }

    [TestMethod]
    public void APathSplitsIntoBucketAndKeyAfterTheApiPrefix()
    {
        Assert.AreEqual(((string?)null, (string?)null), S3Api.Split("/s3", PathString.Empty));
        Assert.AreEqual(((string?)null, (string?)null), S3Api.Split("/s3/", PathString.Empty));
        Assert.AreEqual(("b", (string?)null), S3Api.Split("/s3/b/", PathString.Empty));
        Assert.AreEqual(("b", "dir/a b+c"), S3Api.Split("/s3/b/dir/a b+c", PathString.Empty));
        Assert.AreEqual(("b", "k"), S3Api.Split("/pool/s3/b/k", new PathString("/pool")));
    }

    [TestMethod]
    public void TheTargetIsDecodedOnceAndKeepsPlusSigns()
    {
        var target = Target("/s3/b/a%20b%2Bc%2Fd?prefix=x%2By&list-type=2&uploads");

        Assert.AreEqual("/s3/b/a b+c/d", target.Path);
        Assert.AreEqual(("x+y", "2", ""), (target["prefix"], target["list-type"], target["uploads"]));
        Assert.IsTrue(target.Has("uploads"));
        Assert.AreEqual("/s3/b/a%20b%2Bc/d", target.CanonicalUri);
    }

    [TestMethod]
    public void AContinuationTokenGoesOnAfterItsKeyAndAForgedOneIsInvalidArgument()
    {
        var token = S3BucketOperations.EncodeToken("dir/ü/next");

        Assert.AreEqual("dir/ü/next", S3BucketOperations.DecodeToken(token));
        var forged = Assert.ThrowsExactly<S3ErrorException>(() => S3BucketOperations.DecodeToken("%%%"));
        Assert.AreEqual(("InvalidArgument", "continuation-token"), (forged.Code, forged.Details.First().Value));
    }

    [TestMethod]
    public void ThePoolsErrorsBecomeS3Errors()
    {
        Assert.AreEqual("NoSuchBucket", S3Errors.From(new PoolAI.Volumes.VolumeNotFoundException("v"), "k")!.Code);
        Assert.AreEqual("NoSuchKey", S3Errors.From(new PoolAI.Volumes.VolumeNotFoundException("v", "k"), "k")!.Code);
        var invalid = S3Errors.From(new PoolAI.Jobs.JobValidationException("path", "must not be empty"), "k")!;
        Assert.AreEqual(("InvalidArgument", 400, "path: must not be empty", "path"), (invalid.Code, invalid.Status, invalid.Message, invalid.Details.Single().Value));
        Assert.AreEqual("NoSuchUpload", S3Errors.From(new PoolAI.Jobs.JobValidationException("upload", "unknown"), "k")!.Code);
        Assert.AreEqual("InvalidPart", S3Errors.From(new PoolAI.Jobs.JobValidationException("parts", "part 2 not staged"), "k")!.Code);
        Assert.AreEqual("EntityTooLarge", S3Errors.From(new PoolAI.Jobs.JobValidationException("quota", "the file would not fit"), "k")!.Code);
        Assert.AreEqual("BadDigest", S3Errors.From(new IOException("store failed", S3Errors.BadDigest("x-amz-checksum-crc32")), "k")!.Code, "a body error wrapped by a store");
        Assert.IsNull(S3Errors.From(new InvalidOperationException("bug"), "k"));
    }

    private static RequestTarget Target(string raw)
    {
        var context = new DefaultHttpContext();
        context.Features.Get<IHttpRequestFeature>()!.RawTarget = raw;
        return RequestTarget.Of(context.Request);
    }
}
