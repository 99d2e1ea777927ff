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
}
