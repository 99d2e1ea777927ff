using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Amazon.Runtime;
using Amazon.S3;
using PoolAI.Auth;

namespace PoolAI.Tests.Gateway.S3;

/// <summary>
/// The real gateway process (Program.cs as shipped): a key holder gets S3 credentials from <c>/api/s3/credentials</c>,
/// the SDK's signed requests with them reach <c>/s3</c>, and without an object store registered they are answered
/// 501 NotImplemented as S3 XML.
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
    public async Task AKeyHoldersCredentialsAreAcceptedAndWithoutVolumesTheAnswerIsNotImplemented()
    {
        var (view, key) = await _gateway.Pool.CreateApiKeyAsync(ApiRoles.Developer, "s3-process-test");
        using var http = _gateway.Http(key);

        var credentials = await http.GetFromJsonAsync<JsonElement>("api/s3/credentials");
        using var s3 = new AmazonS3Client(
            new BasicAWSCredentials(credentials.GetProperty("access_key_id").GetString(), credentials.GetProperty("secret_access_key").GetString()),
            new AmazonS3Config { ServiceURL = credentials.GetProperty("endpoint").GetString(), ForcePathStyle = true, AuthenticationRegion = credentials.GetProperty("region").GetString(), MaxErrorRetry = 0 });
        var answer = await Assert.ThrowsAsync<AmazonS3Exception>(() => s3.ListBucketsAsync());
        using var wrong = new AmazonS3Client(
            new BasicAWSCredentials(credentials.GetProperty("access_key_id").GetString(), "wrong"),
            new AmazonS3Config { ServiceURL = credentials.GetProperty("endpoint").GetString(), ForcePathStyle = true, AuthenticationRegion = "us-east-1", MaxErrorRetry = 0 });
        var refused = await Assert.ThrowsAsync<AmazonS3Exception>(() => wrong.ListBucketsAsync());

        Assert.AreEqual(S3Credentials.AccessKeyIdOf(view.Id), credentials.GetProperty("access_key_id").GetString());
        Assert.AreEqual(new Uri(_gateway.BaseAddress, "s3").ToString(), credentials.GetProperty("endpoint").GetString());
        Assert.AreEqual(("NotImplemented", HttpStatusCode.NotImplemented), (answer.ErrorCode, answer.StatusCode));
        Assert.AreEqual(("SignatureDoesNotMatch", HttpStatusCode.Forbidden), (refused.ErrorCode, refused.StatusCode));
    }

    [TestMethod]
    public async Task AMinerKeyGetsNoS3Credentials()
    {
        using var http = _gateway.Http(await _gateway.KeyAsync(ApiRoles.Miner));

        using var response = await http.GetAsync("api/s3/credentials");

        Assert.AreEqual(HttpStatusCode.Forbidden, response.StatusCode);
    }
}
