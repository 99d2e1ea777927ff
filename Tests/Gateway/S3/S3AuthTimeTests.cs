using System.Net;
using Amazon.S3;
using Amazon.S3.Model;
using Microsoft.Extensions.Time.Testing;

namespace PoolAI.Tests.Gateway.S3;

/// <summary>Time in S3 authentication, on a gateway with a fake clock: revocation takes effect within the recheck interval, presigned URLs expire, clocks may differ by at most 15 minutes.</summary>
[TestClass]
public sealed class S3AuthTimeTests
{
    [TestMethod]
    public async Task ARevokedKeyStopsWorkingOnceItsRecheckIntervalHasPassed()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var gateway = await S3TestGateway.StartAsync(time, keyRecheck: "00:00:05");
        var (id, _, credentials) = await gateway.KeyAsync();
        using var s3 = gateway.Client(credentials);
        await s3.ListBucketsAsync();

        await gateway.Pool.RevokeApiKeyAsync(id);
        time.Advance(TimeSpan.FromSeconds(4));
        await s3.ListBucketsAsync();
        time.Advance(TimeSpan.FromSeconds(2));
        var refused = await Assert.ThrowsAsync<AmazonS3Exception>(() => s3.ListBucketsAsync());

        Assert.AreEqual(("InvalidAccessKeyId", HttpStatusCode.Forbidden), (refused.ErrorCode, refused.StatusCode));
        StringAssert.Contains(refused.Message, "belongs to an API key revoked at");
    }

    [TestMethod]
    public async Task APresignedUrlWorksUntilItExpires()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var gateway = await S3TestGateway.StartAsync(time);
        var (_, _, credentials) = await gateway.KeyAsync();
        using var s3 = gateway.Client(credentials);
        gateway.Store!.CreateBucket("expiring");
        await s3.PutObjectAsync(new PutObjectRequest { BucketName = "expiring", Key = "k", ContentBody = "soon gone" });
        var url = await s3.GetPreSignedURLAsync(new GetPreSignedUrlRequest
        {
            BucketName = "expiring", Key = "k", Verb = HttpVerb.GET, Expires = DateTime.UtcNow.AddMinutes(1), Protocol = Protocol.HTTP,
        });
        using var http = new HttpClient();

        using var before = await http.GetAsync(url);
        time.Advance(TimeSpan.FromMinutes(2));
        using var after = await http.GetAsync(url);

        Assert.AreEqual(HttpStatusCode.OK, before.StatusCode);
        Assert.AreEqual(HttpStatusCode.Forbidden, after.StatusCode);
        var body = await after.Content.ReadAsStringAsync();
        StringAssert.Contains(body, "<Code>AccessDenied</Code>");
        StringAssert.Contains(body, "<Message>Request has expired");
    }

    [TestMethod]
    public async Task ARequestSignedMoreThanFifteenMinutesAwayFromTheGatewaysClockIsRequestTimeTooSkewed()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var gateway = await S3TestGateway.StartAsync(time);
        var (_, _, credentials) = await gateway.KeyAsync();
        using var s3 = gateway.Client(credentials);

        time.Advance(TimeSpan.FromMinutes(14));
        await s3.ListBucketsAsync();
        time.Advance(TimeSpan.FromMinutes(2));
        var skewed = await Assert.ThrowsAsync<AmazonS3Exception>(() => s3.ListBucketsAsync());

        Assert.AreEqual(("RequestTimeTooSkewed", HttpStatusCode.Forbidden), (skewed.ErrorCode, skewed.StatusCode));
    }
}
