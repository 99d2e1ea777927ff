using System.Net;
using System.Net.Sockets;

namespace PoolAI.Silo.Hosting;

/// <summary>
/// Whether a TCP port of this machine already has a listener. Orleans binds its silo and gateway ports with
/// <c>SO_REUSEPORT</c> on Linux, so a second pool started on the same ports does not fail to bind: the kernel
/// would share the ports between two unrelated pools and hand each connection to either. The hosts ask first.
/// </summary>
public static class LocalPorts
{
    private static readonly TimeSpan ProbeTimeout = TimeSpan.FromMilliseconds(500);

    /// <summary>True when a connection to 127.0.0.1:<paramref name="port"/> is accepted within half a second.</summary>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public static async Task<bool> IsListeningAsync(int port, CancellationToken cancellationToken = default)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(ProbeTimeout);
        try
        {
            await socket.ConnectAsync(IPAddress.Loopback, port, timeout.Token);
            return true;
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }

    /// <summary>
    /// Refuses to host a silo on <paramref name="port"/> while another process listens there.
    /// </summary>
    /// <param name="key">The setting that chose the port, named in the error (e.g. <c>PoolAI:Cluster:GatewayPort</c>).</param>
    /// <param name="port">The port, 1–65535.</param>
    /// <param name="gatewayPort">The gateway port of the pool being started, named in the advice to join it instead; 0 for none.</param>
    /// <exception cref="PoolConfigurationException">Something already listens on <paramref name="port"/>.</exception>
    public static void RefuseTaken(string key, int port, int gatewayPort)
    {
        if (!IsListeningAsync(port).GetAwaiter().GetResult())
            return;
        var join = gatewayPort > 0 ? $"; to use the pool running here instead, set PoolAI__Client__Gateways=127.0.0.1:{gatewayPort}" : "";
        throw new PoolConfigurationException(key, $"port {port} is already in use on this machine (another pool's silo or gateway?): stop that process or choose another port{join}");
    }
}
