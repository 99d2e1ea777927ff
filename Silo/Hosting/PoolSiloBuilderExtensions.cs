using System.Net;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Placement;
using Orleans.Runtime.MembershipService.SiloMetadata;
using Orleans.Serialization;
using PoolAI.Artifacts;
using PoolAI.Execution;
using PoolAI.Inference;
using PoolAI.Jobs;
using PoolAI.Kinds.DataProcessing;
using PoolAI.Kinds.SystemTasks;
using PoolAI.Kinds.Text;
using PoolAI.Models;
using PoolAI.Placement;
using PoolAI.Rewards;
using PoolAI.Silo.Storage;
using PoolAI.Silo.Workers;
using PoolAI.Volumes;
using PoolAI.Workers;

namespace PoolAI.Silo.Hosting;

/// <summary>Registers PoolAI on an Orleans silo. Each capability has its own method; <see cref="AddPoolAI"/> adds them all.</summary>
public static class PoolSiloBuilderExtensions
{
    /// <summary>ADO.NET invariant name of SQLite in Orleans' providers.</summary>
    public const string SqliteInvariant = "System.Data.SQLite";

    /// <summary>
    /// Adds PoolAI for the role in <c>PoolAI:Role</c>: grain storage, jobs and queues with the built-in job kinds (text
    /// and code generation, system tasks, data processing), rewards, volumes and the artifact store on them, and — for <c>miner</c> and
    /// <c>all-in-one</c> — model serving with its silo metadata; and the membership clock (<see cref="MembershipClock"/>).
    /// An existing pool home is made the owner's alone (<see cref="PoolHome.Secure"/>). Clustering is separate
    /// (<see cref="UsePoolClustering"/>) so that test clusters can bring their own; so is any further job kind
    /// (<see cref="JobKindSiloBuilderExtensions.AddJobKind{TInput, TOutput}"/>).
    /// </summary>
    /// <exception cref="PoolConfigurationException">A setting is wrong; the message names it.</exception>
    public static ISiloBuilder AddPoolAI(this ISiloBuilder silo, IConfiguration configuration)
    {
        var role = PoolRoles.Parse(configuration[PoolRoles.Key]);
        PoolHome.Secure();
        // Orleans' watchdog can read its clock before setting it at start; see MembershipClock.
        silo.Services.AddKeyedSingleton<TimeProvider>(MembershipClock.Key, (services, _) => new MembershipClock(services.GetRequiredService<TimeProvider>()));
        silo.AddPoolStorage(configuration)
            .AddPoolJobs(configuration)
            .AddTextGeneration()
            .AddSystemTasks()
            .AddDataProcessing()
            .AddPoolRewards(configuration)
            .AddPoolModelServing(configuration, role)
            .AddPoolVolumes(configuration, holdsShards: role.ServesModels(), hostsState: role.HostsState())
            .AddPoolArtifacts(configuration)
            .AddPoolRebalancing(configuration)
            .AddPoolGrainDirectory();
        if (role.HostsState())
        {
            silo.Services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>>(services => services.GetRequiredService<WorkerAvailability>());
            silo.Services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>, QueueRecovery>();
            silo.Services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>>(services => services.GetRequiredService<Admin.PoolSettingsCache>());
            if (configuration[$"{PoolTls.Section}:RevocationListPath"] is { Length: > 0 } revocationList)
                silo.Services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>>(services => ActivatorUtilities.CreateInstance<RevocationWatcher>(services, revocationList));
        }

        return silo;
    }

    /// <summary>
    /// Clustering from <c>PoolAI:Cluster</c>: <c>localhost</c> for silos on one machine (a later silo joins
    /// the one on <c>PrimarySiloPort</c>), or <c>adonet</c> for machines sharing the PostgreSQL database in
    /// <c>PoolAI:Database</c> (membership and reminders there; the schema applied first when
    /// <c>PoolAI:Database:Migrate</c> is true).
    /// </summary>
    /// <exception cref="PoolConfigurationException">Unknown clustering kind, bad port, a port another process listens on, missing connection string or unreachable database.</exception>
    public static ISiloBuilder UsePoolClustering(this ISiloBuilder silo, IConfiguration configuration)
    {
        var cluster = configuration.GetSection(PoolClusterOptions.Section).Get<PoolClusterOptions>() ?? new PoolClusterOptions();
        CheckPort($"{PoolClusterOptions.Section}:SiloPort", cluster.SiloPort);
        if (cluster.GatewayPort != 0)
            CheckPort($"{PoolClusterOptions.Section}:GatewayPort", cluster.GatewayPort);
        LocalPorts.RefuseTaken($"{PoolClusterOptions.Section}:SiloPort", cluster.SiloPort, cluster.GatewayPort);
        if (cluster.GatewayPort != 0)
            LocalPorts.RefuseTaken($"{PoolClusterOptions.Section}:GatewayPort", cluster.GatewayPort, cluster.GatewayPort);
        silo.Configure<ClusterMembershipOptions>(o =>
        {
            // Declare a killed silo dead within seconds (defaults take ~30 s): its jobs' leases expire sooner still
            // (PoolAI:Jobs:LeaseTimeout), and this keeps the queue from counting the dead silo's slots for long.
            o.ProbeTimeout = cluster.ProbeTimeout;
            o.NumMissedProbesLimit = cluster.MissedProbesLimit;
        });
        switch (cluster.Clustering.Trim().ToLowerInvariant())
        {
            case "localhost":
                var primary = cluster.PrimarySiloPort > 0 ? new IPEndPoint(IPAddress.Loopback, cluster.PrimarySiloPort) : null;
                silo.UseLocalhostClustering(cluster.SiloPort, cluster.GatewayPort, primary, cluster.ServiceId, cluster.ClusterId);
                break;
            case "adonet":
                var connectionString = PoolDatabase.Require(configuration, "clustering 'adonet'");
                silo.Configure<ClusterOptions>(o =>
                {
                    o.ServiceId = cluster.ServiceId;
                    o.ClusterId = cluster.ClusterId;
                });
                if (cluster.AdvertisedAddress is { Length: > 0 } advertised)
                {
                    if (!IPAddress.TryParse(advertised, out var address))
                        throw new PoolConfigurationException($"{PoolClusterOptions.Section}:AdvertisedAddress", $"must be an IP address; was '{advertised}'");
                    silo.ConfigureEndpoints(address, cluster.SiloPort, cluster.GatewayPort, listenOnAnyHostAddress: true);
                }
                else
                {
                    silo.ConfigureEndpoints(cluster.SiloPort, cluster.GatewayPort, listenOnAnyHostAddress: true);
                }

                silo.UseAdoNetClustering(o =>
                {
                    o.Invariant = PoolDatabase.Invariant;
                    o.ConnectionString = connectionString;
                });
                silo.UseAdoNetReminderService(o =>
                {
                    o.Invariant = PoolDatabase.Invariant;
                    o.ConnectionString = connectionString;
                });
                break;
            default:
                throw new PoolConfigurationException($"{PoolClusterOptions.Section}:Clustering", $"must be 'localhost' or 'adonet'; was '{cluster.Clustering}'");
        }

        return silo.UsePoolTls(configuration);
    }

    /// <summary>
    /// Orleans' strongly consistent grain directory (Orleans 9+, experimental in Orleans 10, diagnostic <c>ORLEANSEXP003</c>)
    /// instead of the default eventually consistent one. With the default, the directory partition of a grain can live on
    /// any silo — a miner too — and when that silo dies, every activation registered there is dropped: a coordinator's
    /// grains lost their in-memory state (and could be activated twice for a moment) each time a miner was killed. The
    /// distributed directory recovers a dead owner's ranges from the activations the surviving silos report, so
    /// activations on coordinators outlive any miner. Every silo of a pool must use the same directory; all get it here.
    /// </summary>
    public static ISiloBuilder AddPoolGrainDirectory(this ISiloBuilder silo)
    {
#pragma warning disable ORLEANSEXP003 // experimental in Orleans 10; see above for why the pool needs it
        silo.AddDistributedGrainDirectory();
#pragma warning restore ORLEANSEXP003
        return silo;
    }

    /// <summary>
    /// With <c>PoolAI:Cluster:Rebalancing</c>, Orleans' activation rebalancer (experimental in Orleans 10, diagnostic
    /// <c>ORLEANSEXP002</c>): every few seconds it compares the silos' activation counts and memory and migrates random
    /// movable activations from the fullest silos to the emptiest, so the state of a grown cluster spreads onto a new
    /// coordinator. It is added on every role because it is one cluster-wide grain that reports to a monitor on every
    /// silo; the placement filter <c>CoordinatorFilter</c> still decides where state may go, so a migration aimed at a
    /// miner lands on a coordinator. Grains whose work runs outside a request (a job's running attempt, a queue's
    /// dispatch, a webhook's retries) or that belong to one silo are marked <c>[Immovable]</c> for the rebalancer.
    /// Inference load does not need it: the job queue places every job on the serving silo with the most free slots.
    /// </summary>
    public static ISiloBuilder AddPoolRebalancing(this ISiloBuilder silo, IConfiguration configuration)
    {
        var cluster = configuration.GetSection(PoolClusterOptions.Section).Get<PoolClusterOptions>() ?? new PoolClusterOptions();
        if (cluster.Rebalancing)
        {
#pragma warning disable ORLEANSEXP002 // experimental in Orleans 10; behind a switch that is off by default
            silo.AddActivationRebalancer();
#pragma warning restore ORLEANSEXP002
        }

        return silo;
    }

    /// <summary>Grain storage <see cref="PoolKeys.Storage"/> from <c>PoolAI:Storage</c>: SQLite through the ADO.NET provider (schema applied now), PostgreSQL (the database in <c>PoolAI:Database</c>), in memory shared by the cluster (<c>memory</c>: Orleans' storage grains), or in the silo's process (<c>process</c>: one-process pools).</summary>
    /// <exception cref="PoolConfigurationException">Unknown provider.</exception>
    public static ISiloBuilder AddPoolStorage(this ISiloBuilder silo, IConfiguration configuration)
    {
        var storage = configuration.GetSection(PoolStorageOptions.Section).Get<PoolStorageOptions>() ?? new PoolStorageOptions();
        switch (storage.Provider.Trim().ToLowerInvariant())
        {
            case "sqlite":
                var connectionString = string.IsNullOrWhiteSpace(storage.ConnectionString)
                    ? $"Data Source={Path.Combine(PoolHome.Directory, "pool.db")}"
                    : storage.ConnectionString;
                try
                {
                    SqliteSchema.Apply(connectionString);
                }
                catch (Exception ex) when (ex is Microsoft.Data.Sqlite.SqliteException or IOException or UnauthorizedAccessException or ArgumentException)
                {
                    throw new PoolConfigurationException($"{PoolStorageOptions.Section}:ConnectionString", $"cannot open the SQLite database ({ex.Message})");
                }

                silo.AddAdoNetGrainStorage(PoolKeys.Storage, (OptionsBuilder<AdoNetGrainStorageOptions> options) => options.Configure<Serializer>((o, serializer) =>
                {
                    // The provider maps this invariant to Microsoft.Data.Sqlite's factory.
                    o.Invariant = SqliteInvariant;
                    o.ConnectionString = connectionString;
                    o.GrainStorageSerializer = new OrleansBinaryStateSerializer(serializer);
                }));
                break;
            case "postgres":
                var database = PoolDatabase.Require(configuration, "storage 'postgres'");
                silo.AddAdoNetGrainStorage(PoolKeys.Storage, (OptionsBuilder<AdoNetGrainStorageOptions> options) => options.Configure<Serializer>((o, serializer) =>
                {
                    o.Invariant = PoolDatabase.Invariant;
                    o.ConnectionString = database;
                    o.GrainStorageSerializer = new OrleansBinaryStateSerializer(serializer);
                }));
                break;
            case "memory":
                // Orleans' storage grains, so every silo of the cluster sees the same state. Binary as on disk: the
                // provider's default JSON serializer was a fifth of the CPU of a no-op job.
                silo.AddMemoryGrainStorage(PoolKeys.Storage, (OptionsBuilder<MemoryGrainStorageOptions> options) =>
                    options.Configure<Serializer>((o, serializer) => o.GrainStorageSerializer = new OrleansBinaryStateSerializer(serializer)));
                break;
            case "process":
                // In this process, without a grain call per read or write (see InProcessGrainStorage): for a pool whose
                // silos all run in one process. Silos of one process share a store only when given the same instance.
                silo.Services.TryAddSingleton<InProcessStateStore>();
                Orleans.Runtime.Hosting.StorageProviderExtensions.AddGrainStorage(silo.Services, PoolKeys.Storage, (services, _) => new InProcessGrainStorage(
                    services.GetRequiredService<InProcessStateStore>(), new OrleansBinaryStateSerializer(services.GetRequiredService<Serializer>()),
                    services.GetRequiredService<Orleans.Serialization.Serializers.IActivatorProvider>()));
                break;
            default:
                throw new PoolConfigurationException($"{PoolStorageOptions.Section}:Provider", $"must be 'sqlite', 'postgres', 'memory' or 'process'; was '{storage.Provider}'");
        }

        return silo;
    }

    /// <summary>
    /// Jobs and queues: the model registry, serving capacity, the job grain's services (result cache, settlement,
    /// webhook address check), the placement filters, job options (<c>PoolAI:Jobs</c>, validated at start) and worker
    /// identity. Job kinds are added on their own (<c>AddTextGeneration</c>, <c>AddSystemTasks</c>, …).
    /// </summary>
    public static ISiloBuilder AddPoolJobs(this ISiloBuilder silo, IConfiguration configuration)
    {
        var modelsDirectory = ModelRegistry.DirectoryOrDefault(configuration[ModelRegistry.DirectoryKey]);
        silo.Services.TryAddSingleton(TimeProvider.System);
        silo.Services.TryAddSingleton(_ => new ModelRegistry(modelsDirectory));
        silo.Services.TryAddSingleton<ServingCapacity>();
        silo.Services.TryAddSingleton<IServingSilos>(sp => sp.GetRequiredService<ServingCapacity>());
        silo.Services.TryAddSingleton<WorkerAvailability>();
        silo.Services.TryAddSingleton<SiloMetadataLookup>();
        silo.Services.TryAddSingleton<Admin.PoolSettingsCache>();
        silo.Services.TryAddSingleton<ResultCaching>();
        silo.Services.TryAddSingleton<JobSettlement>();
        silo.Services.TryAddSingleton<Webhooks.WebhookTargets>();
        silo.Services.TryAddSingleton<PoolAI.Hosting.PoolAuthority>();
        silo.Services.AddPlacementFilter<RunsKindFilterStrategy, RunsKindFilterDirector>(ServiceLifetime.Singleton);
        silo.Services.AddPlacementDirector<Libraries.SiloPinnedPlacement, Libraries.SiloPinnedPlacementDirector>();
        silo.Services.AddPlacementFilter<CoordinatorFilterStrategy, CoordinatorFilterDirector>(ServiceLifetime.Singleton);
        silo.Services.AddOptions<JobOptions>().Bind(configuration.GetSection(JobOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        silo.Services.AddOptions<WorkerIdentity>().Bind(configuration.GetSection(WorkerIdentity.Section));
        return silo;
    }

    /// <summary>
    /// Rewards and the pool's event streams: reward settings (<c>PoolAI:Rewards</c>, validated at start) and the
    /// in-memory stream provider <see cref="PoolStreams.Provider"/> that carries reward entries to the leaderboard. The
    /// streams are not durable: a lost event is made good from the ledgers (see <see cref="ILeaderboardGrain"/>).
    /// </summary>
    public static ISiloBuilder AddPoolRewards(this ISiloBuilder silo, IConfiguration configuration)
    {
        silo.Services.AddOptions<RewardOptions>().Bind(configuration.GetSection(RewardOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        silo.AddMemoryStreams(PoolStreams.Provider);
        silo.AddMemoryGrainStorage("PubSubStore");
        silo.Services.AddOptions<Webhooks.WebhookOptions>().Bind(configuration.GetSection(Webhooks.WebhookOptions.Section));
        silo.Services.TryAddSingleton<Webhooks.WebhookSender>();
        return silo;
    }

    /// <summary>
    /// Model serving: the silo metadata on every silo (its role and hardware), and — for serving roles — the model host,
    /// the metadata that advertises the models, job kinds, slots and device it serves, and the worker's registration
    /// and heartbeat.
    /// </summary>
    /// <exception cref="PoolConfigurationException">A configured model is not in the registry, or the device is unknown.</exception>
    public static ISiloBuilder AddPoolModelServing(this ISiloBuilder silo, IConfiguration configuration, PoolRole role)
    {
        silo.Services.TryAddSingleton<ModelHost>();
        silo.Services.TryAddSingleton<WorkDrain>();
        var memoryMb = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / (1024 * 1024);
        var metadata = new Dictionary<string, string>
        {
            [PoolKeys.RoleMetadata] = role.Name(),
            [PoolKeys.CoresMetadata] = Environment.ProcessorCount.ToString(System.Globalization.CultureInfo.InvariantCulture),
            [PoolKeys.MemoryMetadata] = memoryMb.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        if (role.ServesModels())
        {
            var miner = configuration.GetSection(PoolMinerOptions.Section).Get<PoolMinerOptions>() ?? new PoolMinerOptions();
            var modelsDirectory = ModelRegistry.DirectoryOrDefault(configuration[ModelRegistry.DirectoryKey]);
            var registry = new ModelRegistry(modelsDirectory);
            var models = miner.Models.Count > 0 ? miner.Models : registry.Ids.ToList();
            foreach (var model in models.Where(m => !registry.Contains(m)))
                throw new PoolConfigurationException($"{PoolMinerOptions.Section}:Models", $"model '{model}' is not in the registry at {registry.Directory}; known: {string.Join(", ", registry.Ids)}");
            if (miner.Device is not ("cpu" or "cuda"))
                throw new PoolConfigurationException($"{PoolMinerOptions.Section}:Device", $"must be 'cpu' or 'cuda'; was '{miner.Device}'");
            if (miner.Slots < 0)
                throw new PoolConfigurationException($"{PoolMinerOptions.Section}:Slots", $"must be 0 (automatic) or positive; was {miner.Slots}");
            if (miner.MaxBatch is < 1 or > 256)
                throw new PoolConfigurationException($"{PoolMinerOptions.Section}:MaxBatch", $"must be between 1 and 256; was {miner.MaxBatch}");
            var slots = miner.Slots > 0 ? miner.Slots : miner.MaxBatch;
            silo.Services.Configure<BatchingOptions>(options => options.MaxBatch = miner.MaxBatch);
            var decoder = miner.Decoder switch
            {
                "native" => DecodeBackend.Native,
                "torch" => DecodeBackend.Torch,
                _ => throw new PoolConfigurationException($"{PoolMinerOptions.Section}:Decoder", $"must be 'native' or 'torch'; was '{miner.Decoder}'"),
            };
            silo.Services.Configure<DecodingOptions>(options => options.Backend = decoder);
            metadata[PoolKeys.ModelsMetadata] = string.Join(',', models);
            metadata[PoolKeys.SlotsMetadata] = slots.ToString(System.Globalization.CultureInfo.InvariantCulture);
            metadata[PoolKeys.DeviceMetadata] = miner.Device;
            if (miner.GpuMemoryMb < 0 || (miner.GpuMemoryMb > 0 && miner.Device != "cuda"))
                throw new PoolConfigurationException($"{PoolMinerOptions.Section}:GpuMemoryMb", $"must be 0, or positive on a 'cuda' miner; was {miner.GpuMemoryMb} on '{miner.Device}'");
            metadata[PoolKeys.GpuMemoryMetadata] = miner.GpuMemoryMb.ToString(System.Globalization.CultureInfo.InvariantCulture);
            metadata[PoolKeys.WorkerMetadata] = configuration[$"{WorkerIdentity.Section}:WorkerId"] ?? new WorkerIdentity().WorkerId;
            if (miner.DrainTimeout < TimeSpan.Zero || miner.DrainTimeout > TimeSpan.FromMinutes(10))
                throw new PoolConfigurationException($"{PoolMinerOptions.Section}:DrainTimeout", $"must be between 00:00:00 and 00:10:00; was {miner.DrainTimeout}");
            silo.AdvertiseJobKinds(metadata);
            silo.Services.AddSingleton(services => new WorkerCapabilities(
                miner.Device, Environment.ProcessorCount, memoryMb, miner.GpuMemoryMb, models, slots, [.. services.GetRequiredService<JobKindRegistry>().Executed]));
            silo.Services.AddSingleton(Options.Create(miner));
            silo.Services.AddSingleton(services => new ServedModels(services.GetRequiredService<ModelRegistry>(), miner.Models));
            silo.Services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>, WorkerRegistration>();
        }

        if (configuration[$"{PoolTls.Section}:AuthorityPath"] is { Length: > 0 } && PoolTls.Certificate(configuration) is { } certificate)
        {
            // The pool's coordinators evict a silo whose certificate is revoked (RevocationWatcher): they find it by this.
            metadata[PoolKeys.CertificateMetadata] = certificate.SerialNumber;
            certificate.Dispose();
        }

        silo.UseSiloMetadata(metadata);
        silo.Services.AddSingleton(new LocalSiloMetadata(metadata));
        return silo;
    }

    private static void CheckPort(string key, int port)
    {
        if (port is < 1 or > 65535)
            throw new PoolConfigurationException(key, $"must be a port between 1 and 65535; was {port}");
    }
}
