using System.Net;
using System.Net.Http.Headers;
using Microsoft.Extensions.Configuration;
using PoolAI.Benchmarks.Failover;
using PoolAI.Client.Sdk;
using PoolAI.Jobs;

namespace PoolAI.Tests.Gateway;

/// <summary>A gateway started with <c>PoolAI:Client:Gateways</c> joins a pool that is already running, as the README shows.</summary>
[TestClass]
public sealed class GatewayJoinTests
{
    [TestMethod]
    public async Task AGatewayJoinsARunningPoolThroughItsOrleansGatewayAndRunsJobsOnIt()
    {
        var gatewayPort = TestPorts.FreeText();
        await using var pool = await PoolConnection.OpenAsync(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["PoolAI:Storage:Provider"] = "process",
            ["PoolAI:Cluster:GatewayPort"] = gatewayPort,
            ["PoolAI:Cluster:SiloPort"] = TestPorts.FreeText(),
            ["PoolAI:Rewards:VerificationShare"] = "0",
        }).Build());
        var httpPort = PoolProcess.FreePort();
        // Only the gateways are configured: the pool's service and cluster ids are its defaults, as for the SDK.
        using var gateway = PoolProcess.Start("PoolAI.Gateway.dll", httpPort, PoolProcess.FreePort(), new Dictionary<string, string>
        {
            ["PoolAI__Client__Gateways"] = $"127.0.0.1:{gatewayPort}",
            ["PoolAI__Gateway__Auth__SigningKey"] = Convert.ToBase64String(GatewayFixture.SigningKey),
        });
        await gateway.WaitForLogAsync("Application started", TimeSpan.FromMinutes(2));
        var key = (await pool.Client.CreateApiKeyAsync("developer", "test-join")).Key;
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{httpPort}/"), Timeout = TimeSpan.FromMinutes(2) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);

        var id = (await GatewayFixture.SubmitJobAsync(http, new { prompt = "ROMEO:", max_tokens = 5, seed = 3 })).GetProperty("id").GetString()!;
        var job = await GatewayFixture.WaitFinalAsync(http, id);

        Assert.AreEqual("Succeeded", job.GetProperty("status").GetString(), gateway.Log);
        Assert.AreEqual(JobStatus.Succeeded, (await pool.Client.GetAsync(Guid.Parse(id))).Status, "the job ran on the pool the gateway joined");
    }
}
