using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using PoolAI.Benchmarks.Failover;
using PoolAI.Client.Sdk;
using PoolAI.Miners.Channel;

namespace PoolAI.Tests.Miners;

/// <summary>
/// A pool for open-miner tests, in real processes: a gateway that hosts a coordinator-only pool (it serves no model,
/// so every job runs on an open miner) with the miner channel on an h2c endpoint of its own, a client of that pool
/// (for keys, jobs and ledgers), and open miner processes started as a miner would start one.
/// </summary>
public sealed class OpenMinerPool : IAsyncDisposable
{
    private readonly List<PoolProcess> _miners = [];
    private readonly PoolConnection _connection;

    private OpenMinerPool(PoolProcess gateway, PoolConnection connection, Uri http, Uri channel)
    {
        Gateway = gateway;
        _connection = connection;
        HttpAddress = http;
        ChannelAddress = channel;
    }

    /// <summary>The gateway process (hosting the pool).</summary>
    public PoolProcess Gateway { get; }

    /// <summary>The pool, as the SDK sees it.</summary>
    public PoolClient Pool => _connection.Client;

    /// <summary>The pool's grains, through the SDK's cluster client.</summary>
    public IGrainFactory Grains => _connection.Services.GetRequiredService<IClusterClient>();

    /// <summary>The gateway's HTTP API.</summary>
    public Uri HttpAddress { get; }

    /// <summary>The gateway's miner channel (h2c).</summary>
    public Uri ChannelAddress { get; }

    /// <summary>Starts the pool: a gateway hosting a coordinator, and a client.</summary>
    public static async Task<OpenMinerPool> StartAsync(IReadOnlyDictionary<string, string>? settings = null)
    {
        var httpPort = PoolProcess.FreePort();
        var channelPort = PoolProcess.FreePort();
        var gatewayPort = PoolProcess.FreePort();
        var environment = new Dictionary<string, string>
        {
            ["PoolAI__Role"] = "coordinator",
            ["Kestrel__Endpoints__Http__Url"] = $"http://127.0.0.1:{httpPort}",
            ["Kestrel__Endpoints__Miners__Url"] = $"http://127.0.0.1:{channelPort}",
            ["Kestrel__Endpoints__Miners__Protocols"] = "Http2",
            ["PoolAI__Gateway__Auth__SigningKey"] = Convert.ToBase64String(PoolAI.Tests.Gateway.GatewayFixture.SigningKey),
            ["PoolAI__Rewards__VerificationShare"] = "0",
            ["PoolAI__Jobs__ResultCacheTimeToLive"] = "00:00:00",
            ["PoolAI__Gateway__Miners__HeartbeatInterval"] = "00:00:01",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
            environment[key] = value;
        var process = PoolProcess.Start("PoolAI.Gateway.dll", httpPort, gatewayPort, environment);
        try
        {
            await process.WaitForLogAsync("Application started", TimeSpan.FromMinutes(2));
            var connection = await PoolConnection.OpenAsync(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["PoolAI:Client:Gateways"] = $"127.0.0.1:{gatewayPort}",
            }).Build());
            return new OpenMinerPool(process, connection, new Uri($"http://127.0.0.1:{httpPort}/"), new Uri($"http://127.0.0.1:{channelPort}/"));
        }
        catch
        {
            process.Dispose();
            throw;
        }
    }

    /// <summary>A new key with <paramref name="role"/>, and its id.</summary>
    public async Task<(string Id, string Key)> KeyAsync(string role, string name = "test")
    {
        var (view, key) = await Pool.CreateApiKeyAsync(role, name);
        return (view.Id, key);
    }

    /// <summary>Starts an open miner process with <paramref name="key"/> as the README says (<c>poolai silo --role miner --pool URL --key KEY</c>, then <paramref name="args"/>) and waits until the pool registered it.</summary>
    public async Task<PoolProcess> StartMinerAsync(string key, IReadOnlyDictionary<string, string>? settings = null, params string[] args)
    {
        // A miner's machine is not the test runner's: it inherits none of the runner's database settings (CI has one).
        var environment = Environment.GetEnvironmentVariables().Keys.Cast<string>()
            .Where(name => Environment.GetEnvironmentVariable(name) is { } value && (value.Contains("Username=", StringComparison.OrdinalIgnoreCase) || value.Contains("Password=", StringComparison.OrdinalIgnoreCase)))
            .ToDictionary(name => name, _ => string.Empty);
        foreach (var (name, value) in settings ?? new Dictionary<string, string>())
            environment[name] = value;
        var miner = PoolProcess.Start("poolai.dll", PoolProcess.FreePort(), PoolProcess.FreePort(), environment,
            ["silo", "--role", "miner", "--pool", ChannelAddress.ToString().TrimEnd('/'), "--key", key, .. args]);
        _miners.Add(miner);
        await miner.WaitForLogAsync("registered with the pool", TimeSpan.FromMinutes(2));
        return miner;
    }

    /// <summary>A raw channel client, for playing a miner that cheats.</summary>
    public MinerChannel.MinerChannelClient RawClient(out GrpcChannel channel, int maxSendBytes = 256 * 1024 * 1024)
    {
        channel = GrpcChannel.ForAddress(ChannelAddress, new GrpcChannelOptions { MaxSendMessageSize = maxSendBytes, MaxReceiveMessageSize = 16 * 1024 * 1024 });
        return new MinerChannel.MinerChannelClient(channel);
    }

    /// <summary>The bearer header of <paramref name="key"/>.</summary>
    public static Metadata Bearer(string key) => new() { { "authorization", $"Bearer {key}" } };

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        foreach (var miner in _miners)
            miner.Dispose();
        await _connection.DisposeAsync();
        Gateway.Dispose();
    }
}
