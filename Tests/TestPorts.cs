using System.Net;
using System.Net.Sockets;

namespace PoolAI.Tests;

/// <summary>Loopback ports nothing listens on, for processes the tests start.</summary>
public static class TestPorts
{
    public static int Free()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public static string FreeText() => Free().ToString(System.Globalization.CultureInfo.InvariantCulture);
}
