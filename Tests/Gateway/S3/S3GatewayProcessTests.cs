using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using PoolAI.Auth;

namespace PoolAI.Tests.Gateway.S3;

/// <summary>
/// The real gateway process (Program.cs as shipped): a key holder gets S3 credentials from <c>/api/s3/credentials</c>,
/// and the SDK's signed requests with them put, list, range and delete objects kept in a volume.
/// </summary>
[TestClass]
[DoNotParallelize]
public sealed class S3GatewayProcessTests
{
    private static GatewayFixture _gateway = null!;

    [ClassInitialize]
    public static async Task StartAsync(TestContext context) => _gateway = await GatewayFixture.StartAsync();

    [ClassCleanup]
    public static async Task StopAsync() => await _gateway.DisposeAsync();

    [TestMethod]
    public async Task TheAwsSdkPutsListsRangesAndDeletesObjectsKeptInAVolumeAndABadSignatureIs403()
    {
        await _gateway.Pool.Volumes.CreateAsync("s3-objects", new PoolAI.Volumes.VolumeSpec("mirror:1", ShardBytes: 64 << 10));
        var (view, key) = await _gateway.Pool.CreateApiKeyAsync(ApiRoles.Developer, "s3-process-test");
        using var http = _gateway.Http(key);
        var credentials = await http.GetFromJsonAsync<JsonElement>("api/s3/credentials");
        Assert.AreEqual(S3Credentials.AccessKeyIdOf(view.Id), credentials.GetProperty("access_key_id").GetString());
        Assert.AreEqual(new Uri(_gateway.BaseAddress, "s3").ToString(), credentials.GetProperty("endpoint").GetString());
        using var s3 = new AmazonS3Client(
            new BasicAWSCredentials(credentials.GetProperty("access_key_id").GetString(), credentials.GetProperty("secret_access_key").GetString()),
            new AmazonS3Config { ServiceURL = credentials.GetProperty("endpoint").GetString(), ForcePathStyle = true, AuthenticationRegion = credentials.GetProperty("region").GetString(), MaxErrorRetry = 0 });

        var content = new byte[300_000];
        new Random(5).NextBytes(content);
        await s3.PutObjectAsync(new PutObjectRequest { BucketName = "s3-objects", Key = "models/a.bin", InputStream = new MemoryStream(content) });
        await s3.PutObjectAsync(new PutObjectRequest { BucketName = "s3-objects", Key = "models/b.txt", ContentBody = "hello" });
        await s3.PutObjectAsync(new PutObjectRequest { BucketName = "s3-objects", Key = "readme.txt", ContentBody = "top" });

        var listed = await s3.ListObjectsV2Async(new ListObjectsV2Request { BucketName = "s3-objects", Delimiter = "/" });
        CollectionAssert.AreEqual(new[] { "readme.txt" }, listed.S3Objects.Select(o => o.Key).ToArray());
        CollectionAssert.AreEqual(new[] { "models/" }, listed.CommonPrefixes.ToArray());
        var models = await s3.ListObjectsV2Async(new ListObjectsV2Request { BucketName = "s3-objects", Prefix = "models/" });
        Assert.AreEqual(300_000L, models.S3Objects.Single(o => o.Key == "models/a.bin").Size);

        using (var range = await s3.GetObjectAsync(new GetObjectRequest { BucketName = "s3-objects", Key = "models/a.bin", ByteRange = new ByteRange(70_000, 70_099) }))
        {
            var bytes = new MemoryStream();
            await range.ResponseStream.CopyToAsync(bytes);
            CollectionAssert.AreEqual(content.AsSpan(70_000, 100).ToArray(), bytes.ToArray());
        }

        // The bytes are a volume's file: the SDK's object is what the pool's own client reads.
        var viaPool = new MemoryStream();
        await _gateway.Pool.Volumes.ReadAsync("s3-objects", "models/a.bin", viaPool);
        CollectionAssert.AreEqual(content, viaPool.ToArray());

        // Multipart: three parts become one file without copying a byte.
        var big = new byte[(11 << 20) + 3];
        new Random(6).NextBytes(big);
        var upload = await s3.InitiateMultipartUploadAsync("s3-objects", "big.bin");
        var etags = new List<PartETag>();
        for (var part = 0; part * (5 << 20) < big.Length; part++)
        {
            var slice = big.AsSpan(part * (5 << 20), Math.Min(5 << 20, big.Length - (part * (5 << 20)))).ToArray();
            var uploaded = await s3.UploadPartAsync(new UploadPartRequest { BucketName = "s3-objects", Key = "big.bin", UploadId = upload.UploadId, PartNumber = part + 1, InputStream = new MemoryStream(slice) });
            etags.Add(new PartETag(part + 1, uploaded.ETag));
        }

        var completed = await s3.CompleteMultipartUploadAsync(new CompleteMultipartUploadRequest { BucketName = "s3-objects", Key = "big.bin", UploadId = upload.UploadId, PartETags = etags });
        StringAssert.EndsWith(completed.ETag, "-3\"");
        var whole = new MemoryStream();
        await _gateway.Pool.Volumes.ReadAsync("s3-objects", "big.bin", whole);
        CollectionAssert.AreEqual(big, whole.ToArray());

        await s3.DeleteObjectAsync("s3-objects", "models/a.bin");
        var gone = await Assert.ThrowsAsync<AmazonS3Exception>(() => s3.GetObjectAsync("s3-objects", "models/a.bin"));
        Assert.AreEqual(("NoSuchKey", HttpStatusCode.NotFound), (gone.ErrorCode, gone.StatusCode));

        using var wrong = new AmazonS3Client(
            new BasicAWSCredentials(credentials.GetProperty("access_key_id").GetString(), "wrong"),
            new AmazonS3Config { ServiceURL = credentials.GetProperty("endpoint").GetString(), ForcePathStyle = true, AuthenticationRegion = "us-east-1", MaxErrorRetry = 0 });
        var refused = await Assert.ThrowsAsync<AmazonS3Exception>(() => wrong.PutObjectAsync(new PutObjectRequest { BucketName = "s3-objects", Key = "x", ContentBody = "no" }));
        Assert.AreEqual(("SignatureDoesNotMatch", HttpStatusCode.Forbidden), (refused.ErrorCode, refused.StatusCode));
        Assert.IsNull((await _gateway.Pool.Volumes.Volume("s3-objects").ListAsync(new PoolAI.Volumes.ListRequest("x"))).Files.FirstOrDefault());
    }

    [TestMethod]
    public async Task AMinerKeyGetsNoS3Credentials()
    {
        using var http = _gateway.Http(await _gateway.KeyAsync(ApiRoles.Miner));

        using var response = await http.GetAsync("api/s3/credentials");

        Assert.AreEqual(HttpStatusCode.Forbidden, response.StatusCode);
    }
}
