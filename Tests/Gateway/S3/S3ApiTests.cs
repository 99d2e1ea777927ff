using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Xml.Linq;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using Amazon.S3.Transfer;
using PoolAI.Auth;

namespace PoolAI.Tests.Gateway.S3;

/// <summary>
/// The official AWS SDK for .NET (AWSSDK.S3, default settings but path-style) against the gateway's <c>/s3</c>: what
/// it stores reads back byte for byte with S3's ETags, ranges, listings and multipart uploads behave as S3's, and
/// every request that is not signed by a live developer key with its own secret, or whose body was changed after
/// signing, is refused with S3's error and stores nothing.
/// </summary>
[TestClass]
public sealed class S3ApiTests
{
    private static S3TestGateway _gateway = null!;
    private static BasicAWSCredentials _credentials = null!;
    private static string _key = null!;
    private static AmazonS3Client _s3 = null!;

    [ClassInitialize]
    public static async Task StartAsync(TestContext context)
    {
        _gateway = await S3TestGateway.StartAsync();
        (_, _key, _credentials) = await _gateway.KeyAsync();
        _s3 = _gateway.Client(_credentials);
    }

    [ClassCleanup]
    public static async Task StopAsync()
    {
        _s3.Dispose();
        await _gateway.DisposeAsync();
    }

    [TestMethod]
    public async Task ASmallObjectReadsBackWithTheMd5OfItsBytesAsETag()
    {
        var bucket = NewBucket();

        var put = await _s3.PutObjectAsync(new PutObjectRequest { BucketName = bucket, Key = "greeting.txt", ContentBody = "hello" });
        using var get = await _s3.GetObjectAsync(bucket, "greeting.txt");

        Assert.AreEqual("\"5d41402abc4b2a76b9719d911017c592\"", put.ETag);
        Assert.AreEqual("hello", Encoding.UTF8.GetString(await ReadAsync(get)));
        Assert.AreEqual(("\"5d41402abc4b2a76b9719d911017c592\"", 5L, HttpStatusCode.OK), (get.ETag, get.ContentLength, get.HttpStatusCode));
    }

    [TestMethod]
    public async Task AnEmptyObjectReadsBackEmpty()
    {
        var bucket = NewBucket();

        var put = await _s3.PutObjectAsync(new PutObjectRequest { BucketName = bucket, Key = "empty", InputStream = new MemoryStream() });
        using var get = await _s3.GetObjectAsync(bucket, "empty");
        var head = await _s3.GetObjectMetadataAsync(bucket, "empty");

        Assert.AreEqual("\"d41d8cd98f00b204e9800998ecf8427e\"", put.ETag);
        Assert.AreEqual(0, (await ReadAsync(get)).Length);
        Assert.AreEqual((0L, "\"d41d8cd98f00b204e9800998ecf8427e\""), (head.ContentLength, head.ETag));
    }

    [TestMethod]
    public async Task AnObjectOfSixMebibytesStreamsPastTheGatewaysJsonBodyLimit()
    {
        var bucket = NewBucket();
        var bytes = RandomBytes((6 * 1024 * 1024) + 123, seed: 1);

        var put = await _s3.PutObjectAsync(new PutObjectRequest { BucketName = bucket, Key = "big.bin", InputStream = new MemoryStream(bytes) });
        using var get = await _s3.GetObjectAsync(bucket, "big.bin");

        Assert.AreEqual($"\"{Convert.ToHexStringLower(MD5.HashData(bytes))}\"", put.ETag);
        CollectionAssert.AreEqual(bytes, await ReadAsync(get));
    }

    [TestMethod]
    public async Task RangesAreAnswered206WithTheirContentRangeAndARangePastTheEndIs416()
    {
        var bucket = NewBucket();
        var bytes = RandomBytes(100, seed: 2);
        await _s3.PutObjectAsync(new PutObjectRequest { BucketName = bucket, Key = "r", InputStream = new MemoryStream(bytes) });

        async Task<(HttpStatusCode, string, byte[])> Range(ByteRange range)
        {
            using var get = await _s3.GetObjectAsync(new GetObjectRequest { BucketName = bucket, Key = "r", ByteRange = range });
            return (get.HttpStatusCode, get.ContentRange, await ReadAsync(get));
        }

        var (status, contentRange, body) = await Range(new ByteRange(10, 19));
        Assert.AreEqual((HttpStatusCode.PartialContent, "bytes 10-19/100"), (status, contentRange));
        CollectionAssert.AreEqual(bytes[10..20], body);
        (_, contentRange, body) = await Range(new ByteRange("bytes=90-"));
        Assert.AreEqual("bytes 90-99/100", contentRange);
        CollectionAssert.AreEqual(bytes[90..], body);
        (_, contentRange, body) = await Range(new ByteRange("bytes=-5"));
        Assert.AreEqual("bytes 95-99/100", contentRange);
        CollectionAssert.AreEqual(bytes[95..], body);
        (_, contentRange, body) = await Range(new ByteRange(98, 500));
        Assert.AreEqual("bytes 98-99/100", contentRange);
        CollectionAssert.AreEqual(bytes[98..], body);
        var unsatisfiable = await Assert.ThrowsAsync<AmazonS3Exception>(() => Range(new ByteRange("bytes=100-")));
        Assert.AreEqual(("InvalidRange", HttpStatusCode.RequestedRangeNotSatisfiable), (unsatisfiable.ErrorCode, unsatisfiable.StatusCode));
    }

    [TestMethod]
    public async Task HeadGivesLengthETagAndTimeAndForAMissingKeyIs404()
    {
        var bucket = NewBucket();
        var before = DateTime.UtcNow.AddSeconds(-1);
        await _s3.PutObjectAsync(new PutObjectRequest { BucketName = bucket, Key = "h", ContentBody = "twelve bytes" });

        var head = await _s3.GetObjectMetadataAsync(bucket, "h");
        var missing = await Assert.ThrowsAsync<AmazonS3Exception>(() => _s3.GetObjectMetadataAsync(bucket, "nothing"));

        Assert.AreEqual((12L, $"\"{Convert.ToHexStringLower(MD5.HashData("twelve bytes"u8))}\""), (head.ContentLength, head.ETag));
        Assert.IsTrue(head.LastModified >= before && head.LastModified <= DateTime.UtcNow.AddSeconds(1), $"last modified {head.LastModified:o}");
        Assert.AreEqual(HttpStatusCode.NotFound, missing.StatusCode);
    }

    [TestMethod]
    public async Task AMissingKeyIsNoSuchKeyAndAMissingBucketNoSuchBucket()
    {
        var bucket = NewBucket();

        var key = await Assert.ThrowsAsync<AmazonS3Exception>(() => _s3.GetObjectAsync(bucket, "nothing"));
        var volume = await Assert.ThrowsAsync<AmazonS3Exception>(() => _s3.GetObjectAsync("no-such-volume", "x"));
        var head = await Assert.ThrowsAsync<AmazonS3Exception>(() => _s3.HeadBucketAsync(new HeadBucketRequest { BucketName = "no-such-volume" }));

        Assert.AreEqual(("NoSuchKey", HttpStatusCode.NotFound), (key.ErrorCode, key.StatusCode));
        Assert.AreEqual(("NoSuchBucket", HttpStatusCode.NotFound), (volume.ErrorCode, volume.StatusCode));
        Assert.AreEqual(HttpStatusCode.NotFound, head.StatusCode);
        Assert.AreEqual(HttpStatusCode.OK, (await _s3.HeadBucketAsync(new HeadBucketRequest { BucketName = bucket })).HttpStatusCode);
    }

    [TestMethod]
    public async Task ListingWithDelimiterAndPagesSeesEachKeyAndCommonPrefixOnce()
    {
        var bucket = NewBucket();
        foreach (var key in new[] { "a/1", "a/2", "b/x/1", "c", "d/1", "top" })
            await _s3.PutObjectAsync(new PutObjectRequest { BucketName = bucket, Key = key, ContentBody = key });

        var pages = new List<ListObjectsV2Response>();
        string? token = null;
        do
        {
            var page = await _s3.ListObjectsV2Async(new ListObjectsV2Request { BucketName = bucket, Delimiter = "/", MaxKeys = 2, ContinuationToken = token });
            pages.Add(page);
            token = page.NextContinuationToken;
        }
        while (pages[^1].IsTruncated == true);

        Assert.AreEqual(3, pages.Count);
        CollectionAssert.AreEqual(new[] { "a/", "b/" }, pages[0].CommonPrefixes);
        Assert.AreEqual((2, true), (pages[0].KeyCount, pages[0].IsTruncated));
        CollectionAssert.AreEqual(new[] { "c" }, pages[1].S3Objects.Select(o => o.Key).ToList());
        CollectionAssert.AreEqual(new[] { "d/" }, pages[1].CommonPrefixes);
        CollectionAssert.AreEqual(new[] { "top" }, pages[2].S3Objects.Select(o => o.Key).ToList());
        Assert.AreEqual((1, false), (pages[2].KeyCount, pages[2].IsTruncated));
        Assert.IsNull(pages[2].NextContinuationToken);

        var underA = await _s3.ListObjectsV2Async(new ListObjectsV2Request { BucketName = bucket, Prefix = "a/" });
        CollectionAssert.AreEqual(new[] { "a/1", "a/2" }, underA.S3Objects.Select(o => o.Key).ToList());
        Assert.AreEqual((long?)3, underA.S3Objects[0].Size);
        Assert.AreEqual($"\"{Convert.ToHexStringLower(MD5.HashData("a/1"u8))}\"", underA.S3Objects[0].ETag);
        var afterC = await _s3.ListObjectsV2Async(new ListObjectsV2Request { BucketName = bucket, StartAfter = "c" });
        CollectionAssert.AreEqual(new[] { "d/1", "top" }, afterC.S3Objects.Select(o => o.Key).ToList());
        var version1 = await _s3.ListObjectsAsync(new ListObjectsRequest { BucketName = bucket, Marker = "b/x/1" });
        CollectionAssert.AreEqual(new[] { "c", "d/1", "top" }, version1.S3Objects.Select(o => o.Key).ToList());
    }

    [TestMethod]
    public async Task KeysWithSpacesPlusSignsAndNonAsciiLettersRoundTrip()
    {
        var bucket = NewBucket();
        const string Key = "dir/a b+c ü~(1).txt";

        await _s3.PutObjectAsync(new PutObjectRequest { BucketName = bucket, Key = Key, ContentBody = "odd" });
        using var get = await _s3.GetObjectAsync(bucket, Key);
        var listed = await _s3.ListObjectsV2Async(new ListObjectsV2Request { BucketName = bucket, Prefix = "dir/a b" });

        Assert.AreEqual("odd", Encoding.UTF8.GetString(await ReadAsync(get)));
        CollectionAssert.AreEqual(new[] { Key }, listed.S3Objects.Select(o => o.Key).ToList());
        CollectionAssert.AreEqual(new[] { Key }, _gateway.Store!.Keys(bucket).ToList());
    }

    [TestMethod]
    public async Task AMultipartUploadOfThreePartsReadsBackAsOneObjectWithS3sMultipartETag()
    {
        var bucket = NewBucket();
        var parts = new[] { RandomBytes(5 * 1024 * 1024, 3), RandomBytes(5 * 1024 * 1024, 4), RandomBytes(1000, 5) };

        var upload = await _s3.InitiateMultipartUploadAsync(bucket, "multi.bin");
        var etags = new List<PartETag>();
        for (var i = 0; i < parts.Length; i++)
        {
            var part = await _s3.UploadPartAsync(new UploadPartRequest
            {
                BucketName = bucket, Key = "multi.bin", UploadId = upload.UploadId, PartNumber = i + 1, InputStream = new MemoryStream(parts[i]),
            });
            Assert.AreEqual($"\"{Convert.ToHexStringLower(MD5.HashData(parts[i]))}\"", part.ETag);
            etags.Add(new PartETag(i + 1, part.ETag));
        }

        var done = await _s3.CompleteMultipartUploadAsync(new CompleteMultipartUploadRequest { BucketName = bucket, Key = "multi.bin", UploadId = upload.UploadId, PartETags = etags });
        using var get = await _s3.GetObjectAsync(bucket, "multi.bin");

        var md5s = parts.SelectMany(p => MD5.HashData(p)).ToArray();
        Assert.AreEqual($"\"{Convert.ToHexStringLower(MD5.HashData(md5s))}-3\"", done.ETag);
        Assert.AreEqual((bucket, "multi.bin"), (done.BucketName, done.Key));
        CollectionAssert.AreEqual(parts.SelectMany(p => p).ToArray(), await ReadAsync(get));
        Assert.AreEqual(done.ETag, get.ETag);
    }

    [TestMethod]
    public async Task TransferUtilityUploadsAFileInPartsAndDownloadsItWhole()
    {
        var bucket = NewBucket();
        var bytes = RandomBytes((17 * 1024 * 1024) + 5, seed: 6);
        using var transfer = new TransferUtility(_s3);

        await transfer.UploadAsync(new MemoryStream(bytes), bucket, "via-transfer.bin");
        var head = await _s3.GetObjectMetadataAsync(bucket, "via-transfer.bin");
        using var get = await _s3.GetObjectAsync(bucket, "via-transfer.bin");

        var parts = int.Parse(head.ETag.Trim('"').Split('-')[1], System.Globalization.CultureInfo.InvariantCulture);
        Assert.IsTrue(parts >= 2, $"17 MiB went up as {parts} part(s)");
        CollectionAssert.AreEqual(bytes, await ReadAsync(get));
    }

    [TestMethod]
    public async Task AnAbortedUploadLeavesNoObjectAndNoUpload()
    {
        var bucket = NewBucket();
        var upload = await _s3.InitiateMultipartUploadAsync(bucket, "abandoned");
        await _s3.UploadPartAsync(new UploadPartRequest { BucketName = bucket, Key = "abandoned", UploadId = upload.UploadId, PartNumber = 1, InputStream = new MemoryStream(RandomBytes(10, 7)) });

        var abort = await _s3.AbortMultipartUploadAsync(bucket, "abandoned", upload.UploadId);
        var again = await Assert.ThrowsAsync<AmazonS3Exception>(() => _s3.UploadPartAsync(new UploadPartRequest
        {
            BucketName = bucket, Key = "abandoned", UploadId = upload.UploadId, PartNumber = 2, InputStream = new MemoryStream(RandomBytes(10, 8)),
        }));

        Assert.AreEqual(HttpStatusCode.NoContent, abort.HttpStatusCode);
        Assert.AreEqual(("NoSuchUpload", HttpStatusCode.NotFound), (again.ErrorCode, again.StatusCode));
        Assert.AreEqual(0, _gateway.Store!.Keys(bucket).Count);
    }

    [TestMethod]
    public async Task CompletingWithAPartETagThatWasNotUploadedIsInvalidPart()
    {
        var bucket = NewBucket();
        var upload = await _s3.InitiateMultipartUploadAsync(bucket, "k");
        await _s3.UploadPartAsync(new UploadPartRequest { BucketName = bucket, Key = "k", UploadId = upload.UploadId, PartNumber = 1, InputStream = new MemoryStream(RandomBytes(10, 9)) });

        var wrong = await Assert.ThrowsAsync<AmazonS3Exception>(() => _s3.CompleteMultipartUploadAsync(new CompleteMultipartUploadRequest
        {
            BucketName = bucket, Key = "k", UploadId = upload.UploadId, PartETags = [new PartETag(1, "\"00000000000000000000000000000000\"")],
        }));

        Assert.AreEqual(("InvalidPart", HttpStatusCode.BadRequest), (wrong.ErrorCode, wrong.StatusCode));
        StringAssert.StartsWith(wrong.Message, "parts: part 1 was not uploaded");
        Assert.AreEqual(0, _gateway.Store!.Keys(bucket).Count);
    }

    [TestMethod]
    public async Task DeleteRemovesTheKeyAndDeletingAMissingKeyIsStill204()
    {
        var bucket = NewBucket();
        await _s3.PutObjectAsync(new PutObjectRequest { BucketName = bucket, Key = "gone", ContentBody = "x" });

        var first = await _s3.DeleteObjectAsync(bucket, "gone");
        var second = await _s3.DeleteObjectAsync(bucket, "gone");

        Assert.AreEqual((HttpStatusCode.NoContent, HttpStatusCode.NoContent), (first.HttpStatusCode, second.HttpStatusCode));
        Assert.AreEqual("NoSuchKey", (await Assert.ThrowsAsync<AmazonS3Exception>(() => _s3.GetObjectAsync(bucket, "gone"))).ErrorCode);
    }

    [TestMethod]
    public async Task DeleteObjectsDeletesEveryKeyNamedAndReportsAnInvalidOne()
    {
        var bucket = NewBucket();
        foreach (var key in new[] { "x/1", "x/2", "keep" })
            await _s3.PutObjectAsync(new PutObjectRequest { BucketName = bucket, Key = key, ContentBody = key });

        // The SDK throws when any key failed; the answer is in the exception.
        var result = (await Assert.ThrowsExactlyAsync<DeleteObjectsException>(() => _s3.DeleteObjectsAsync(new DeleteObjectsRequest
        {
            BucketName = bucket, Objects = [new KeyVersion { Key = "x/1" }, new KeyVersion { Key = "x/2" }, new KeyVersion { Key = "never-there" }, new KeyVersion { Key = "a//b" }],
        }))).Response;

        CollectionAssert.AreEqual(new[] { "x/1", "x/2", "never-there" }, result.DeletedObjects.Select(d => d.Key).ToList());
        Assert.AreEqual(("a//b", "InvalidArgument"), (result.DeleteErrors.Single().Key, result.DeleteErrors.Single().Code));
        CollectionAssert.AreEqual(new[] { "keep" }, _gateway.Store!.Keys(bucket).ToList());
    }

    [TestMethod]
    public async Task CopyObjectCopiesTheBytesAcrossBuckets()
    {
        var (from, to) = (NewBucket(), NewBucket());
        var bytes = RandomBytes(300_000, seed: 10);
        await _s3.PutObjectAsync(new PutObjectRequest { BucketName = from, Key = "src", InputStream = new MemoryStream(bytes) });

        var copy = await _s3.CopyObjectAsync(from, "src", to, "dst/copy");
        using var get = await _s3.GetObjectAsync(to, "dst/copy");

        Assert.AreEqual($"\"{Convert.ToHexStringLower(MD5.HashData(bytes))}\"", copy.ETag);
        CollectionAssert.AreEqual(bytes, await ReadAsync(get));
    }

    [TestMethod]
    public async Task AKeyAVolumeCouldNotHoldIsInvalidArgumentNamingTheKey()
    {
        var bucket = NewBucket();

        var error = await Assert.ThrowsAsync<AmazonS3Exception>(() => _s3.PutObjectAsync(new PutObjectRequest { BucketName = bucket, Key = "a/../b", ContentBody = "x" }));

        Assert.AreEqual(("InvalidArgument", HttpStatusCode.BadRequest), (error.ErrorCode, error.StatusCode));
        Assert.AreEqual("key: must not contain empty, '.' or '..' segments (got 'a/../b')", error.Message);
    }

    [TestMethod]
    public async Task ListBucketsListsTheVolumes()
    {
        var bucket = NewBucket();

        var buckets = await _s3.ListBucketsAsync();

        CollectionAssert.Contains(buckets.Buckets.Select(b => b.BucketName).ToList(), bucket);
    }

    [TestMethod]
    public async Task AWrongSecretIsSignatureDoesNotMatch()
    {
        using var client = _gateway.Client(new BasicAWSCredentials(_credentials.GetCredentials().AccessKey, "not-the-secret"));

        var error = await Assert.ThrowsAsync<AmazonS3Exception>(() => client.ListBucketsAsync());

        Assert.AreEqual(("SignatureDoesNotMatch", HttpStatusCode.Forbidden), (error.ErrorCode, error.StatusCode));
    }

    [TestMethod]
    public async Task AnUnknownAccessKeyIsInvalidAccessKeyId()
    {
        using var unknown = _gateway.Client(new BasicAWSCredentials(S3Credentials.AccessKeyIdOf("0123456789ab"), S3Credentials.SecretFor(S3TestGateway.MasterSecret, "0123456789ab")));
        using var foreign = _gateway.Client(new BasicAWSCredentials("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"));

        var error = await Assert.ThrowsAsync<AmazonS3Exception>(() => unknown.ListBucketsAsync());
        var aws = await Assert.ThrowsAsync<AmazonS3Exception>(() => foreign.ListBucketsAsync());

        Assert.AreEqual(("InvalidAccessKeyId", HttpStatusCode.Forbidden), (error.ErrorCode, error.StatusCode));
        Assert.AreEqual(("InvalidAccessKeyId", HttpStatusCode.Forbidden), (aws.ErrorCode, aws.StatusCode));
    }

    [TestMethod]
    public async Task AMinerKeyIsAccessDenied()
    {
        var (_, _, miner) = await _gateway.KeyAsync(ApiRoles.Miner);
        using var client = _gateway.Client(miner);

        var error = await Assert.ThrowsAsync<AmazonS3Exception>(() => client.ListBucketsAsync());

        Assert.AreEqual(("AccessDenied", HttpStatusCode.Forbidden), (error.ErrorCode, error.StatusCode));
        Assert.AreEqual("The access key's API key has role 'miner'; S3 is for developer and admin keys.", error.Message);
    }

    [TestMethod]
    public async Task AnUnsignedRequestIsAccessDeniedAsAnS3ErrorDocument()
    {
        using var http = new HttpClient { BaseAddress = _gateway.Http };

        using var response = await http.GetAsync("s3/");
        var error = XElement.Parse(await response.Content.ReadAsStringAsync());

        Assert.AreEqual(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.AreEqual("application/xml", response.Content.Headers.ContentType?.MediaType);
        Assert.AreEqual(("Error", "AccessDenied", "/s3/"), (error.Name.LocalName, error.Element("Code")?.Value, error.Element("Resource")?.Value));
        Assert.AreEqual(response.Headers.GetValues("x-amz-request-id").Single(), error.Element("RequestId")?.Value);
    }

    [TestMethod]
    public async Task ABodyChangedAfterSigningItsSha256IsRefusedAndNothingIsStored()
    {
        var bucket = NewBucket();
        using var tampering = _gateway.Client(_credentials, configure: c => c.HttpClientFactory = new TamperingHttpClientFactory());

        var error = await Assert.ThrowsAsync<AmazonS3Exception>(() => tampering.PutObjectAsync(new PutObjectRequest
        {
            BucketName = bucket, Key = "tampered", ContentBody = "the signed body", UseChunkEncoding = false,
        }));

        Assert.AreEqual(("XAmzContentSHA256Mismatch", HttpStatusCode.BadRequest), (error.ErrorCode, error.StatusCode));
        Assert.AreEqual(0, _gateway.Store!.Keys(bucket).Count);
    }

    [TestMethod]
    public async Task AChunkChangedAfterSigningIsRefusedAndNothingIsStored()
    {
        var bucket = NewBucket();
        using var tampering = _gateway.Client(_credentials, configure: c => c.HttpClientFactory = new TamperingHttpClientFactory());

        var error = await Assert.ThrowsAsync<AmazonS3Exception>(() => tampering.PutObjectAsync(new PutObjectRequest
        {
            BucketName = bucket, Key = "tampered", InputStream = new MemoryStream(RandomBytes(200_000, 11)),
        }));

        Assert.AreEqual(("SignatureDoesNotMatch", HttpStatusCode.Forbidden), (error.ErrorCode, error.StatusCode));
        Assert.AreEqual(0, _gateway.Store!.Keys(bucket).Count);
    }

    [TestMethod]
    public async Task OverHttpsAnUnsignedBodyWithATrailingChecksumIsStoredAndAChangedOneIsBadDigest()
    {
        var bucket = NewBucket();
        using var https = _gateway.Client(_credentials, https: true);
        using var tampering = _gateway.Client(_credentials, https: true, configure: c => c.HttpClientFactory = new TamperingHttpsHttpClientFactory());
        var bytes = RandomBytes(300_000, seed: 12);

        await https.PutObjectAsync(new PutObjectRequest { BucketName = bucket, Key = "unsigned", InputStream = new MemoryStream(bytes), DisablePayloadSigning = true });
        await https.PutObjectAsync(new PutObjectRequest { BucketName = bucket, Key = "default", InputStream = new MemoryStream(bytes) });
        var error = await Assert.ThrowsAsync<AmazonS3Exception>(() => tampering.PutObjectAsync(new PutObjectRequest
        {
            BucketName = bucket, Key = "tampered", InputStream = new MemoryStream(bytes), DisablePayloadSigning = true,
        }));
        using var get = await https.GetObjectAsync(bucket, "unsigned");

        CollectionAssert.AreEqual(bytes, await ReadAsync(get));
        Assert.AreEqual(("BadDigest", HttpStatusCode.BadRequest), (error.ErrorCode, error.StatusCode));
        Assert.AreEqual("The x-amz-checksum-crc32 you specified did not match the calculated checksum.", error.Message);
        CollectionAssert.AreEqual(new[] { "default", "unsigned" }, _gateway.Store!.Keys(bucket).ToList());
    }

    [TestMethod]
    public async Task TheSdkSignsEveryChunkAndItsCrc32TrailerUnlessToldNotToOverHttps()
    {
        var bucket = NewBucket();
        using var https = _gateway.Client(_credentials, https: true);

        await _s3.PutObjectAsync(new PutObjectRequest { BucketName = bucket, Key = "over-http", ContentBody = "plain" });
        await https.PutObjectAsync(new PutObjectRequest { BucketName = bucket, Key = "over-https", ContentBody = "tls" });
        await https.PutObjectAsync(new PutObjectRequest { BucketName = bucket, Key = "over-https-unsigned", ContentBody = "tls", DisablePayloadSigning = true });
        await _s3.PutObjectAsync(new PutObjectRequest { BucketName = bucket, Key = "whole", ContentBody = "one piece", UseChunkEncoding = false });

        var seen = _gateway.Seen.Where(s => s.Method == "PUT" && s.Path.StartsWith($"/s3/{bucket}/", StringComparison.Ordinal))
            .ToDictionary(s => s.Path[($"/s3/{bucket}/".Length)..], s => (s.PayloadHash, s.Trailer));
        Assert.AreEqual(("STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER", "x-amz-checksum-crc32"), seen["over-http"]);
        Assert.AreEqual(("STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER", "x-amz-checksum-crc32"), seen["over-https"]);
        Assert.AreEqual(("STREAMING-UNSIGNED-PAYLOAD-TRAILER", "x-amz-checksum-crc32"), seen["over-https-unsigned"]);
        Assert.AreEqual((Convert.ToHexStringLower(SHA256.HashData("one piece"u8)), ""), seen["whole"]);
        CollectionAssert.AreEqual(new[] { "over-http", "over-https", "over-https-unsigned", "whole" }, _gateway.Store!.Keys(bucket).ToList());
    }

    [TestMethod]
    public async Task APresignedGetUrlServesTheObjectWithoutCredentials()
    {
        var bucket = NewBucket();
        await _s3.PutObjectAsync(new PutObjectRequest { BucketName = bucket, Key = "shared file.txt", ContentBody = "for anyone with the link" });

        var url = await _s3.GetPreSignedURLAsync(new GetPreSignedUrlRequest
        {
            BucketName = bucket, Key = "shared file.txt", Verb = HttpVerb.GET, Expires = DateTime.UtcNow.AddMinutes(5), Protocol = Protocol.HTTP,
        });
        using var http = new HttpClient();
        using var response = await http.GetAsync(url);

        Assert.AreEqual(HttpStatusCode.OK, response.StatusCode);
        Assert.AreEqual("for anyone with the link", await response.Content.ReadAsStringAsync());
        using var changed = await http.GetAsync(url.Replace("shared%20file.txt", "other.txt", StringComparison.Ordinal));
        Assert.AreEqual(HttpStatusCode.Forbidden, changed.StatusCode, "the URL is signed for its key only");
    }

    [TestMethod]
    public async Task APresignedPutUrlStoresTheBody()
    {
        var bucket = NewBucket();

        var url = await _s3.GetPreSignedURLAsync(new GetPreSignedUrlRequest
        {
            BucketName = bucket, Key = "dropped.bin", Verb = HttpVerb.PUT, Expires = DateTime.UtcNow.AddMinutes(5), Protocol = Protocol.HTTP,
        });
        using var http = new HttpClient();
        using var response = await http.PutAsync(url, new ByteArrayContent("dropped in"u8.ToArray()));
        using var get = await _s3.GetObjectAsync(bucket, "dropped.bin");

        Assert.AreEqual(HttpStatusCode.OK, response.StatusCode);
        Assert.AreEqual("dropped in", Encoding.UTF8.GetString(await ReadAsync(get)));
    }

    [TestMethod]
    public async Task TheCredentialsEndpointGivesAKeyHolderWorkingS3Credentials()
    {
        var bucket = NewBucket();
        using var http = new HttpClient { BaseAddress = _gateway.Http };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", _key);

        using var response = await http.GetAsync("api/s3/credentials");
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        using var client = _gateway.Client(new BasicAWSCredentials(body.GetProperty("access_key_id").GetString(), body.GetProperty("secret_access_key").GetString()));

        Assert.AreEqual(HttpStatusCode.OK, response.StatusCode);
        Assert.AreEqual(_credentials.GetCredentials().AccessKey, body.GetProperty("access_key_id").GetString());
        Assert.AreEqual((new Uri(_gateway.Http, "s3").ToString(), "us-east-1"), (body.GetProperty("endpoint").GetString(), body.GetProperty("region").GetString()));
        CollectionAssert.Contains((await client.ListBucketsAsync()).Buckets.Select(b => b.BucketName).ToList(), bucket);
    }

    private static string NewBucket()
    {
        var name = "b" + Guid.NewGuid().ToString("N")[..20];
        _gateway.Store!.CreateBucket(name);
        return name;
    }

    private static byte[] RandomBytes(int count, int seed)
    {
        var bytes = new byte[count];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    private static async Task<byte[]> ReadAsync(GetObjectResponse response)
    {
        var buffer = new MemoryStream();
        await response.ResponseStream.CopyToAsync(buffer);
        return buffer.ToArray();
    }

    /// <summary>Tampers as <see cref="TamperingHttpClientFactory"/>, trusting the test gateway's certificate.</summary>
    private sealed class TamperingHttpsHttpClientFactory : HttpClientFactory
    {
        public override HttpClient CreateHttpClient(IClientConfig clientConfig) =>
            TamperingHttpClientFactory.Create(new HttpClientHandler { ServerCertificateCustomValidationCallback = HttpClientHandler.DangerousAcceptAnyServerCertificateValidator });

        public override bool UseSDKHttpClientCaching(IClientConfig clientConfig) => false;
    }
}
