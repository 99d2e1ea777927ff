using PoolAI.Benchmarks.Failover;

namespace PoolAI.Tests;

/// <summary>Loopback ports nothing listens on, for processes the tests start.</summary>
public static class TestPorts
{
    public static int Free() => PoolProcess.FreePort();

    public static string FreeText() => Free().ToString(System.Globalization.CultureInfo.InvariantCulture);
}
