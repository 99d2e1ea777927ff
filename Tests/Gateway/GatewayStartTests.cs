using PoolAI.Benchmarks.Failover;

namespace PoolAI.Tests.Gateway;

/// <summary>The gateway's first start, with a fresh <c>POOLAI_HOME</c> and its embedded all-in-one silo, as a user runs it.</summary>
[TestClass]
public sealed class GatewayStartTests
{
    [TestMethod]
    public async Task AFirstStartLogsNoWarningOfAStalledOrDeadlockedParticipantCheck()
    {
        using var gateway = PoolProcess.Start("PoolAI.Gateway.dll", PoolProcess.FreePort(), PoolProcess.FreePort(), new Dictionary<string, string>
        {
            ["PoolAI__Gateway__Auth__SigningKey"] = Convert.ToBase64String(GatewayFixture.SigningKey),
        });
        await gateway.WaitForLogAsync("Application started", TimeSpan.FromMinutes(2));
        // Stopped gracefully, the process has written all it logged while it started.
        gateway.Terminate();
        Assert.AreEqual(0, await gateway.WaitForExitAsync(TimeSpan.FromMinutes(1)), gateway.Log);

        Assert.IsFalse(gateway.Log.Contains("Participant check thread has not completed", StringComparison.Ordinal), gateway.Log);
        Assert.IsFalse(gateway.Log.Contains("deadlock", StringComparison.OrdinalIgnoreCase), gateway.Log);
    }

    [TestMethod]
    public async Task AGatewayOnTheGatewayPortOfARunningPoolIsRefusedNamingThePortAndHowToJoinIt()
    {
        // Orleans would share the port with the running pool (SO_REUSEPORT) and split its clients between two pools.
        using var running = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        running.Start();
        var port = ((System.Net.IPEndPoint)running.LocalEndpoint).Port;
        using var gateway = PoolProcess.Start("PoolAI.Gateway.dll", PoolProcess.FreePort(), port, new Dictionary<string, string>
        {
            ["PoolAI__Gateway__Auth__SigningKey"] = Convert.ToBase64String(GatewayFixture.SigningKey),
        });

        Assert.AreEqual(2, await gateway.WaitForExitAsync(TimeSpan.FromMinutes(1)), gateway.Log);
        StringAssert.Contains(gateway.Log, $"configuration PoolAI:Cluster:GatewayPort: port {port} is already in use on this machine");
        StringAssert.Contains(gateway.Log, $"PoolAI__Client__Gateways=127.0.0.1:{port}");
    }

    [TestMethod]
    public async Task ASiloOnTheSiloPortOfARunningPoolIsRefusedNamingThePort()
    {
        using var running = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        running.Start();
        var port = ((System.Net.IPEndPoint)running.LocalEndpoint).Port;
        using var silo = PoolProcess.StartSilo("coordinator", new Dictionary<string, string>
        {
            ["PoolAI__Cluster__SiloPort"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture),
        });

        Assert.AreEqual(2, await silo.WaitForExitAsync(TimeSpan.FromMinutes(1)), silo.Log);
        StringAssert.Contains(silo.Log, $"poolai silo: configuration PoolAI:Cluster:SiloPort: port {port} is already in use on this machine");
    }
}
