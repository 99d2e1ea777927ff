using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Configuration;
using PoolAI.Auth;
using Microsoft.Extensions.DependencyInjection;
using PoolAI.Silo.Hosting;

namespace PoolAI.Silo.Miners;

/// <summary>
/// Turns a miner into an open miner when <c>PoolAI:Miner:Pool</c> (<c>--pool</c>) is set: its silo becomes a cluster of
/// its own on loopback (free ports, state in the process), which hosts the executors, and <see cref="OpenMinerClient"/>
/// links it to the pool's gateway with the miner key <c>PoolAI:Miner:Key</c> (<c>--key</c>).
/// </summary>
public static class OpenMinerSetup
{
    /// <summary>Configuration key of the pool's miner channel URL.</summary>
    public const string PoolKey = "PoolAI:Miner:Pool";

    /// <summary>Configuration key of the miner key.</summary>
    public const string KeyKey = "PoolAI:Miner:Key";

    /// <summary>Configuration key of the storage an open miner offers the pool's volumes (<c>--storage 10GiB</c>; default 0, none).</summary>
    public const string StorageKey = "PoolAI:Miner:StorageBytes";

    /// <summary>
    /// The open miner's settings, with the local cluster's settings layered over <paramref name="configuration"/>; null
    /// when <c>PoolAI:Miner:Pool</c> is not set (a trusted miner, which joins the cluster).
    /// </summary>
    /// <exception cref="PoolConfigurationException">A setting is wrong or missing, or a database credential is configured.</exception>
    public static OpenMinerOptions? Configure(IConfigurationManager configuration, PoolRole role)
    {
        if (configuration[PoolKey] is not { Length: > 0 } pool)
        {
            if (configuration[KeyKey] is { Length: > 0 })
                throw new PoolConfigurationException(KeyKey, "is for open miners: give the pool gateway's URL with --pool (PoolAI:Miner:Pool) too");
            return null;
        }

        if (role != PoolRole.Miner)
            throw new PoolConfigurationException(PoolKey, $"is for the miner role (--role miner); this silo's role is {role.Name()}");
        if (!Uri.TryCreate(pool, UriKind.Absolute, out var uri) || uri.Scheme is not ("https" or "http") || uri.Host.Length == 0)
            throw new PoolConfigurationException(PoolKey, $"must be the pool gateway's URL, https://HOST[:PORT] (or http:// for a plain HTTP/2 miner endpoint); was '{pool}'");
        var key = configuration[KeyKey];
        if (string.IsNullOrWhiteSpace(key))
            throw new PoolConfigurationException(KeyKey, "is required with --pool: a miner key (pai_…) that the pool's admin creates with 'poolai keys create --role miner --name NAME'");
        if (ApiKeys.IdOf(key.Trim()) is null)
            throw new PoolConfigurationException(KeyKey, "is not a PoolAI key: keys look like pai_ followed by 12 hex digits, '_' and the secret");
        if (configuration[PoolDatabaseOptions.ConnectionStringKey] is { Length: > 0 })
            throw new PoolConfigurationException(PoolDatabaseOptions.ConnectionStringKey, "must not be set on an open miner: it reaches the pool only through the gateway, and holds no database credential");
        if (configuration[$"{PoolTls.Section}:CertificatePath"] is { Length: > 0 })
            throw new PoolConfigurationException($"{PoolTls.Section}:CertificatePath", "must not be set on an open miner: the cluster's certificate is for trusted silos");

        var storage = configuration[StorageKey] is { Length: > 0 } size ? StorageSize.Parse(size) : 0;
        if (storage is not { } storageBytes || storageBytes > PoolAI.Miners.OpenMiners.MaxStorageBytes)
            throw new PoolConfigurationException(StorageKey, $"must be a size from 0 to 1PiB, such as 10GiB, 500MB or 1073741824 (bytes); was '{configuration[StorageKey]}'");
        if (storageBytes > 0 && !configuration.GetValue($"{PoolAI.Volumes.Stores.ChunkStoreOptions.Section}:Enabled", true))
            throw new PoolConfigurationException(StorageKey, $"offers storage, but {PoolAI.Volumes.Stores.ChunkStoreOptions.Section}:Enabled is false: this miner keeps no shard store");

        var drain = configuration.GetValue($"{PoolMinerOptions.Section}:DrainTimeout", TimeSpan.FromSeconds(10));
        configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            // A cluster of its own on loopback: the executors, its worker's local statistics and nothing else.
            [PoolRoles.Key] = PoolRole.AllInOne.Name(),
            [$"{PoolClusterOptions.Section}:Clustering"] = "localhost",
            [$"{PoolClusterOptions.Section}:SiloPort"] = FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture),
            [$"{PoolClusterOptions.Section}:GatewayPort"] = "0",
            [$"{PoolClusterOptions.Section}:PrimarySiloPort"] = "0",
            [$"{PoolStorageOptions.Section}:Provider"] = "process",
            [$"{PoolAI.Rewards.RewardOptions.Section}:VerificationShare"] = "0",
            // The local silo's own worker is not the pool's: it keeps local statistics only, under a name that says so.
            [$"{PoolAI.Workers.WorkerIdentity.Section}:WorkerId"] = "local-executors",
            // The local cluster's start-up and shutdown chatter is not the miner's business; its warnings still show.
            ["Logging:LogLevel:Orleans"] = configuration["Logging:LogLevel:Orleans"] ?? "Warning",
            ["Logging:LogLevel:PoolAI.Silo.Workers.WorkerRegistration"] = configuration["Logging:LogLevel:PoolAI.Silo.Workers.WorkerRegistration"] ?? "Warning",
        });
        return new OpenMinerOptions(uri, key.Trim(), drain, storageBytes);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>Registers <see cref="OpenMinerClient"/> on an open miner's silo.</summary>
public static class OpenMinerSiloBuilderExtensions
{
    /// <summary>Adds the link to the pool when <paramref name="options"/> is set (see <see cref="OpenMinerSetup.Configure"/>); does nothing otherwise.</summary>
    public static ISiloBuilder AddOpenMinerClient(this ISiloBuilder silo, OpenMinerOptions? options)
    {
        if (options is null)
            return silo;
        silo.Services.AddSingleton(options);
        silo.Services.AddSingleton<OpenMinerClient>();
        silo.Services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>>(services => services.GetRequiredService<OpenMinerClient>());
        return silo;
    }
}
