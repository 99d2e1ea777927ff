using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;
using PoolAI.Libraries;
using PoolAI.Silo.Hosting;

namespace PoolAI.Client.Sdk;

/// <summary>How a <see cref="PoolConnection"/> reached the pool.</summary>
public enum PoolConnectionKind
{
    /// <summary>Joined the cluster configured in <c>PoolAI:Client:Gateways</c> or through <c>adonet</c> clustering.</summary>
    ConfiguredCluster,

    /// <summary>Joined a silo or gateway already running on this machine.</summary>
    LocalPool,

    /// <summary>Started an all-in-one silo inside this process.</summary>
    Embedded,
}

/// <summary>
/// A live connection to a pool. <see cref="OpenAsync"/> picks the pool: the cluster named in
/// configuration; else a pool already running on this machine (a silo or gateway listening on the
/// local gateway port); else an all-in-one silo started inside this process, so one command works
/// from a fresh clone with nothing else running.
/// </summary>
public sealed class PoolConnection : IAsyncDisposable
{
    private readonly IHost _host;

    private PoolHomeLock? _homeLock;

    private PoolConnection(IHost host, PoolConnectionKind kind, string description)
    {
        _host = host;
        Kind = kind;
        Description = description;
        Client = new PoolClient(host.Services.GetRequiredService<IGrainFactory>());
    }

    /// <summary>The SDK on this connection.</summary>
    public PoolClient Client { get; }

    /// <summary>Storage volumes on this connection (<see cref="PoolClient.Volumes"/>).</summary>
    public PoolAI.Volumes.VolumeClient Volumes => Client.Volumes;

    /// <summary>How the pool was reached.</summary>
    public PoolConnectionKind Kind { get; }

    /// <summary>Where the pool is, for messages.</summary>
    public string Description { get; }

    /// <summary>Services of the underlying host (the silo's, when embedded).</summary>
    public IServiceProvider Services => _host.Services;

    /// <summary>Connects as described on the type.</summary>
    /// <param name="configuration">Reads <c>PoolAI:Client:Gateways</c> (comma-separated <c>host:port</c>), <c>PoolAI:Cluster:*</c> (with <c>Clustering</c> = <c>adonet</c>, the gateways come from the database in <c>PoolAI:Database:ConnectionString</c>) and, for the embedded silo, everything a silo reads.</param>
    /// <param name="logLevel">Least level the embedded silo or client logs to the console.</param>
    /// <param name="cancellationToken">Stops connecting.</param>
    /// <param name="configureEmbeddedSilo">Further configuration of the embedded silo, applied after PoolAI's (the scale benchmark swaps in simulated miners); not used when joining a running pool.</param>
    /// <param name="configureLogging">Further logging configuration of the client or embedded silo, applied after PoolAI's (the <c>poolai</c> tool quiets Orleans' connection warnings, as it reports a lost pool itself).</param>
    /// <exception cref="PoolConfigurationException">A setting is wrong.</exception>
    public static async Task<PoolConnection> OpenAsync(
        IConfiguration configuration,
        LogLevel logLevel = LogLevel.Warning,
        CancellationToken cancellationToken = default,
        Action<ISiloBuilder>? configureEmbeddedSilo = null,
        Action<ILoggingBuilder>? configureLogging = null)
    {
        var cluster = configuration.GetSection(PoolClusterOptions.Section).Get<PoolClusterOptions>() ?? new PoolClusterOptions();
        if (configuration[GatewaysKey] is { Length: > 0 } gateways)
        {
            return await StartAsync(
                ClientHost(configuration, logLevel, configureLogging, client => UseConfiguredGateways(client, configuration)),
                PoolConnectionKind.ConfiguredCluster, $"cluster at {gateways}", cancellationToken);
        }

        if (string.Equals(cluster.Clustering, "adonet", StringComparison.OrdinalIgnoreCase))
        {
            var database = configuration[PoolDatabaseOptions.ConnectionStringKey];
            if (string.IsNullOrWhiteSpace(database))
                throw new PoolConfigurationException(PoolDatabaseOptions.ConnectionStringKey, "is required to join a cluster with clustering 'adonet'; set POOLAI__Database__ConnectionString");
            return await StartAsync(
                ClientHost(configuration, logLevel, configureLogging, client => client
                    .Configure<Orleans.Configuration.ClusterOptions>(o =>
                    {
                        o.ServiceId = cluster.ServiceId;
                        o.ClusterId = cluster.ClusterId;
                    })
                    // A restarted coordinator is a new gateway: look for it every few seconds, not every minute.
                    .Configure<Orleans.Configuration.GatewayOptions>(o => o.GatewayListRefreshPeriod = TimeSpan.FromSeconds(5))
                    .UseAdoNetClustering(o =>
                    {
                        o.Invariant = PoolDatabase.Invariant;
                        o.ConnectionString = database;
                    })),
                PoolConnectionKind.ConfiguredCluster, $"cluster '{cluster.ClusterId}' on PostgreSQL", cancellationToken);
        }

        // The pool of this home's database may run on ports other than the configured ones: its holder says where.
        var homeDatabase = PoolHomeLock.UsesHomeDatabase(configuration);
        if (homeDatabase && PoolHomeLock.HolderPort(PoolHome.Directory) is { } holderPort)
        {
            if (holderPort == 0)
                throw new PoolConfigurationException("POOLAI_HOME", $"another process hosts the pool of {PoolHome.Directory} and takes no clients (its client port is 0); give this one another POOLAI_HOME");
            return await StartAsync(
                ClientHost(configuration, logLevel, configureLogging, client => client.UseLocalhostClustering(holderPort, cluster.ServiceId, cluster.ClusterId)),
                PoolConnectionKind.LocalPool, $"local pool on port {holderPort}", cancellationToken);
        }

        if (await LocalPorts.IsListeningAsync(cluster.GatewayPort, cancellationToken))
        {
            return await StartAsync(
                ClientHost(configuration, logLevel, configureLogging, client => client.UseLocalhostClustering(cluster.GatewayPort, cluster.ServiceId, cluster.ClusterId)),
                PoolConnectionKind.LocalPool, $"local pool on port {cluster.GatewayPort}", cancellationToken);
        }

        TorchLibraries.EnsureLoaded();
        var siloPort = IsFree(cluster.SiloPort) ? cluster.SiloPort : FreePort();
        var gatewayPort = IsFree(cluster.GatewayPort) ? cluster.GatewayPort : FreePort();
        // Held while this embedded pool runs, so that no other process starts a second pool on the same database.
        PoolHomeLock? homeLock = null;
        if (homeDatabase && (homeLock = PoolHomeLock.TryTake(PoolHome.Directory, gatewayPort)) is null)
            return await OpenAsync(configuration, logLevel, cancellationToken, configureEmbeddedSilo, configureLogging); // another took it just now: join it
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddConfiguration(configuration);
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            [PoolRoles.Key] = "all-in-one",
            // Its owner stops it when its own jobs have ended: a generation still running then (one whose cancellation
            // was lost on the way, say) is handed back at once instead of waited for (10 s by default on a miner), so an
            // interrupted command exits promptly. A configured value still applies.
            [$"{PoolMinerOptions.Section}:DrainTimeout"] = configuration[$"{PoolMinerOptions.Section}:DrainTimeout"] ?? "00:00:00",
        });
        ConfigureLogging(builder, logLevel, configureLogging);
        // The silo's advice to use server GC is for long-running servers, not a command-line tool.
        builder.Logging.AddFilter("Orleans.Runtime.Silo", LogLevel.Error);
        // As the pool stops, the pulling agents of the in-memory event streams log their cancelled reads as errors.
        // Those streams are not durable by design (a lost event is made good from the ledgers), so on a command's
        // standard error that is noise; errors of theirs before the stop are still shown.
        var stop = new StopSignal();
        builder.Services.AddSingleton(stop);
        // Likewise a rebalancing migration that Orleans starts as the only silo stops finds no silo to move to
        // ("Error while selecting a migration destination", category Orleans.Grain); the grain deactivates in place.
        foreach (var category in new[] { "Orleans.Streams", "Orleans.Providers.MemoryAdapterReceiver", "Orleans.Grain" })
            builder.Logging.AddFilter(category, level => level >= (stop.Stopping ? LogLevel.Critical : logLevel));
        builder.UseOrleans(silo =>
        {
            silo.UseLocalhostClustering(siloPort, gatewayPort, null, cluster.ServiceId, cluster.ClusterId)
                .UsePoolTls(builder.Configuration)
                .AddPoolAI(builder.Configuration);
            configureEmbeddedSilo?.Invoke(silo);
        });
        try
        {
            var connection = await StartAsync(builder.Build(), PoolConnectionKind.Embedded, $"embedded all-in-one silo (gateway port {gatewayPort})", cancellationToken);
            connection._homeLock = homeLock;
            return connection;
        }
        catch
        {
            homeLock?.Dispose();
            throw;
        }
    }

    /// <summary>Configuration key of the gateways a client joins: comma-separated <c>host:port</c>.</summary>
    public const string GatewaysKey = "PoolAI:Client:Gateways";

    /// <summary>
    /// Clustering of a client that joins the gateways in <see cref="GatewaysKey"/>, with the pool's service and cluster
    /// ids from <c>PoolAI:Cluster</c> (a silo refuses a client whose cluster id differs from its own).
    /// </summary>
    /// <exception cref="PoolConfigurationException">A gateway is not <c>host:port</c>, or none is given.</exception>
    public static IClientBuilder UseConfiguredGateways(IClientBuilder client, IConfiguration configuration)
    {
        var cluster = configuration.GetSection(PoolClusterOptions.Section).Get<PoolClusterOptions>() ?? new PoolClusterOptions();
        var endpoints = (configuration[GatewaysKey] ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(ParseEndpoint).ToArray();
        if (endpoints.Length == 0)
            throw new PoolConfigurationException(GatewaysKey, "must name at least one gateway as host:port");
        return client
            .Configure<Orleans.Configuration.ClusterOptions>(o =>
            {
                o.ServiceId = cluster.ServiceId;
                o.ClusterId = cluster.ClusterId;
            })
            .UseStaticClustering(endpoints);
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (_host.Services.GetService<StopSignal>() is { } stop)
            stop.Stopping = true;
        try
        {
            await _host.StopAsync(TimeSpan.FromSeconds(10));
        }
        finally
        {
            _host.Dispose();
            _homeLock?.Dispose();
        }
    }

    private static IHost ClientHost(IConfiguration configuration, LogLevel logLevel, Action<ILoggingBuilder>? configureLogging, Action<IClientBuilder> clustering)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddConfiguration(configuration);
        ConfigureLogging(builder, logLevel, configureLogging);
        builder.UseOrleansClient(client =>
        {
            clustering(client);
            client.UsePoolTls(configuration);
        });
        return builder.Build();
    }

    /// <summary>Logs go to standard error, so that standard output carries only what the command produces; interrupts belong to the caller.</summary>
    private static void ConfigureLogging(HostApplicationBuilder builder, LogLevel logLevel, Action<ILoggingBuilder>? configureLogging)
    {
        builder.Services.AddSingleton<IHostLifetime, CallerOwnedLifetime>();
        builder.Logging.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(logLevel);
        builder.Services.Configure<ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        configureLogging?.Invoke(builder.Logging);
    }

    private static async Task<PoolConnection> StartAsync(IHost host, PoolConnectionKind kind, string description, CancellationToken cancellationToken)
    {
        // A client's first connection is bounded: a gateway that accepts the socket but never completes the handshake
        // (a silo in the middle of stopping) held it for minutes. An embedded silo's start is not a connection.
        TimeSpan connectTimeout;
        try
        {
            connectTimeout = kind == PoolConnectionKind.Embedded ? Timeout.InfiniteTimeSpan : ConnectTimeout(host.Services.GetRequiredService<IConfiguration>());
        }
        catch
        {
            host.Dispose();
            throw;
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(connectTimeout);
        try
        {
            // Options are validated before the start, so a bad setting is thrown to the caller (which says it in one
            // line naming the setting) without the host first logging it as a failed start with its stack trace.
            host.Services.GetService<Microsoft.Extensions.Options.IStartupValidator>()?.Validate();
            await host.StartAsync(timeout.Token);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            host.Dispose();
            throw new TimeoutException($"the {description} did not complete a connection within {connectTimeout.TotalSeconds:0.#} s ({ConnectTimeoutKey})");
        }
        catch
        {
            host.Dispose();
            throw;
        }

        return new PoolConnection(host, kind, description);
    }

    /// <summary>Configuration key of the longest wait for a client's first connection to the pool (a <see cref="TimeSpan"/>, default 30 s).</summary>
    public const string ConnectTimeoutKey = "PoolAI:Client:ConnectTimeout";

    private static TimeSpan ConnectTimeout(IConfiguration configuration)
    {
        var text = configuration[ConnectTimeoutKey];
        if (string.IsNullOrWhiteSpace(text))
            return TimeSpan.FromSeconds(30);
        if (!TimeSpan.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, out var value) || value <= TimeSpan.Zero || value > TimeSpan.FromDays(1))
            throw new PoolConfigurationException(ConnectTimeoutKey, $"must be a time span above 0 and at most 1 day, such as 00:00:30; was '{text}'");
        return value;
    }

    private static IPEndPoint ParseEndpoint(string text)
    {
        var colon = text.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(text[(colon + 1)..], out var port) || port is < 1 or > 65535)
            throw new PoolConfigurationException("PoolAI:Client:Gateways", $"each gateway must be host:port; '{text}' is not");
        var host = text[..colon];
        var address = IPAddress.TryParse(host, out var ip) ? ip : Dns.GetHostAddresses(host).First(a => a.AddressFamily == AddressFamily.InterNetwork);
        return new IPEndPoint(address, port);
    }

    private static bool IsFree(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Set when an embedded pool begins to stop (see the logging filters of <see cref="OpenAsync"/>).</summary>
    private sealed class StopSignal
    {
        public volatile bool Stopping;
    }
}
