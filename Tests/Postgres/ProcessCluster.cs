using System.Globalization;
using Microsoft.Extensions.Configuration;
using PoolAI.Benchmarks.Failover;

namespace PoolAI.Tests.Postgres;

/// <summary>
/// Settings for a cluster of real silo processes on one PostgreSQL database: the environment every silo gets, the
/// coordinator's (fixed ports, so a restarted coordinator comes back where clients look), and a client configuration.
/// </summary>
public sealed class ProcessCluster
{
    private ProcessCluster(string database, IReadOnlyDictionary<string, string>? extra)
    {
        var clusterId = $"test-{Guid.NewGuid():N}";
        Environment = new Dictionary<string, string>
        {
            ["PoolAI__Database__ConnectionString"] = database,
            ["PoolAI__Cluster__AdvertisedAddress"] = "127.0.0.1",
            ["PoolAI__Cluster__ClusterId"] = clusterId,
        };
        foreach (var (key, value) in extra ?? new Dictionary<string, string>())
            Environment[key] = value;
        CoordinatorEnvironment = new Dictionary<string, string>(Environment)
        {
            ["PoolAI__Cluster__SiloPort"] = PoolProcess.FreePort().ToString(CultureInfo.InvariantCulture),
            ["PoolAI__Cluster__GatewayPort"] = PoolProcess.FreePort().ToString(CultureInfo.InvariantCulture),
        };
        Client = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["PoolAI:Cluster:Clustering"] = "adonet",
            ["PoolAI:Cluster:ClusterId"] = clusterId,
            ["PoolAI:Database:ConnectionString"] = database,
        }).Build();
    }

    /// <summary>Every silo's environment (database, address, cluster id, and the extra settings).</summary>
    public Dictionary<string, string> Environment { get; }

    /// <summary>The coordinator's environment: every silo's plus its silo and gateway ports.</summary>
    public Dictionary<string, string> CoordinatorEnvironment { get; }

    /// <summary>Configuration for <c>PoolConnection.OpenAsync</c>.</summary>
    public IConfiguration Client { get; }

    /// <summary>A new cluster on a new database of the test PostgreSQL server, with <paramref name="extra"/> settings for every silo.</summary>
    public static async Task<ProcessCluster> CreateAsync(IReadOnlyDictionary<string, string>? extra = null) =>
        new(await PostgresServer.CreateDatabaseAsync(), extra);

    /// <summary>A new cluster on <paramref name="database"/> (a connection string), with <paramref name="extra"/> settings for every silo.</summary>
    public static ProcessCluster On(string database, IReadOnlyDictionary<string, string>? extra = null) => new(database, extra);

    /// <summary>A miner's environment: every silo's, no gateway, plus <paramref name="extra"/>.</summary>
    public Dictionary<string, string> Miner(IReadOnlyDictionary<string, string>? extra = null)
    {
        var miner = new Dictionary<string, string>(Environment) { ["PoolAI__Cluster__GatewayPort"] = "0" };
        foreach (var (key, value) in extra ?? new Dictionary<string, string>())
            miner[key] = value;
        return miner;
    }
}
