using System.Net;
using Amazon.S3;

namespace PoolAI.Tests.Gateway.S3;

/// <summary>The S3 API under the gateway's per-key rate limit, and without an object store.</summary>
[TestClass]
public sealed class S3GatewayLimitsTests
{
    [TestMethod]
    public async Task AKeyOverItsRateLimitIsToldToSlowDownAsS3Does()
    {
        await using var gateway = await S3TestGateway.StartAsync(permitsPerSecond: 1, burst: 2);
        var (_, _, credentials) = await gateway.KeyAsync();
        using var s3 = gateway.Client(credentials);

        // Two at once, then one a second: of ten quick requests some must be refused, however the refill timer ticks.
        AmazonS3Exception? refused = null;
        for (var i = 0; i < 10 && refused is null; i++)
        {
            try
            {
                await s3.ListBucketsAsync();
            }
            catch (AmazonS3Exception e)
            {
                refused = e;
            }
        }

        Assert.IsNotNull(refused, "ten requests at once all passed a limit of 1 per second in bursts of 2");

        Assert.AreEqual(("SlowDown", HttpStatusCode.ServiceUnavailable), (refused.ErrorCode, refused.StatusCode));
        Assert.AreEqual("Please reduce your request rate: this key may make 1 requests per second (bursts of 2).", refused.Message);
    }

    [TestMethod]
    public async Task WithoutAnObjectStoreEverySignedRequestIsNotImplemented()
    {
        await using var gateway = await S3TestGateway.StartAsync(withStore: false);
        var (_, _, credentials) = await gateway.KeyAsync();
        using var s3 = gateway.Client(credentials);

        var error = await Assert.ThrowsAsync<AmazonS3Exception>(() => s3.ListBucketsAsync());

        Assert.AreEqual(("NotImplemented", HttpStatusCode.NotImplemented), (error.ErrorCode, error.StatusCode));
        Assert.AreEqual("This gateway has no object store: storage volumes are not set up on it.", error.Message);
    }
}
