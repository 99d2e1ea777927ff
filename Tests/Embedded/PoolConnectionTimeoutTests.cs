using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Configuration;
using PoolAI.Client.Sdk;
using PoolAI.Silo.Hosting;

namespace PoolAI.Tests.Embedded;

/// <summary>A client's first connection to a pool is bounded by <c>PoolAI:Client:ConnectTimeout</c>.</summary>
[TestClass]
public sealed class PoolConnectionTimeoutTests
{
    [TestMethod]
    public async Task AGatewayThatAcceptsButNeverAnswersEndsTheConnectWithATimeout()
    {
        // Accepts the socket and says nothing, as a silo in the middle of stopping did.
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var accepted = new List<Socket>();
        var accepting = Task.Run(async () =>
        {
            while (true)
                accepted.Add(await listener.AcceptSocketAsync());
        });
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;

        var open = PoolConnection.OpenAsync(Configuration($"127.0.0.1:{port}", "00:00:02"));
        var ended = await Task.WhenAny(open, Task.Delay(TimeSpan.FromSeconds(60)));

        Assert.AreSame(open, ended, "the connect did not end within a minute");
        var error = await Assert.ThrowsExactlyAsync<TimeoutException>(() => open);
        StringAssert.Contains(error.Message, "within 2 s (PoolAI:Client:ConnectTimeout)");
        listener.Stop();
        foreach (var socket in accepted)
            socket.Dispose();
    }

    [TestMethod]
    public async Task ABadConnectTimeoutIsRefusedNamingTheSetting()
    {
        var error = await Assert.ThrowsExactlyAsync<PoolConfigurationException>(() => PoolConnection.OpenAsync(Configuration("127.0.0.1:1", "soon")));
        StringAssert.Contains(error.Message, "PoolAI:Client:ConnectTimeout");
        StringAssert.Contains(error.Message, "'soon'");
    }

    private static IConfiguration Configuration(string gateways, string connectTimeout) => new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
    {
        ["PoolAI:Client:Gateways"] = gateways,
        ["PoolAI:Client:ConnectTimeout"] = connectTimeout,
    }).Build();
}
