using PoolAI.Benchmarks.Failover;
using PoolAI.Tests.Cli;

namespace PoolAI.Tests.Storage;

/// <summary>One pool per pool home: a tool joins the pool that holds the home, whatever its ports; a second host is refused.</summary>
[TestClass]
public sealed class PoolHomeLockTests
{
    [TestMethod]
    [Timeout(180_000, CooperativeCancellation = true)]
    public async Task AToolJoinsThePoolOfItsHomeOnAnyPortAndASecondHostIsRefused()
    {
        var home = Path.Combine(Path.GetTempPath(), $"poolai-lock-{Guid.NewGuid():N}");
        var gatewayPort = PoolProcess.FreePort(); // not the default 30000
        using var gateway = PoolProcess.Start("PoolAI.Gateway.dll", PoolProcess.FreePort(), gatewayPort, new Dictionary<string, string> { ["POOLAI_HOME"] = home });
        await gateway.WaitForLogAsync("Application started", TimeSpan.FromMinutes(2));

        var environment = new Dictionary<string, string> { ["POOLAI_HOME"] = home };
        var created = await PoolaiProcess.RunAsync(environment, "keys", "create", "--role", "developer", "--name", "joined");
        Assert.AreEqual(0, created.ExitCode, created.StandardError);
        var listed = await PoolaiProcess.RunAsync(environment, "keys", "list");
        Assert.AreEqual(0, listed.ExitCode, listed.StandardError);
        StringAssert.Contains(listed.StandardOutput, "joined", "the key was made in the gateway's pool");
        Assert.IsFalse(listed.StandardError.Contains("hosts the pool", StringComparison.Ordinal), listed.StandardError);

        using var second = PoolProcess.Start("PoolAI.Gateway.dll", PoolProcess.FreePort(), PoolProcess.FreePort(), new Dictionary<string, string> { ["POOLAI_HOME"] = home });
        Assert.AreEqual(2, await second.WaitForExitAsync(TimeSpan.FromMinutes(1)), second.Log);
        StringAssert.Contains(second.Log, $"configuration POOLAI_HOME: another process hosts the pool of {home} (client port {gatewayPort})");
    }
}
