namespace PoolAI.Silo.Hosting;

/// <summary>Cluster membership and ports (configuration section <c>PoolAI:Cluster</c>).</summary>
public sealed class PoolClusterOptions
{
    /// <summary>Configuration section.</summary>
    public const string Section = "PoolAI:Cluster";

    /// <summary>Orleans service id: stable across deployments, keys stored state.</summary>
    public string ServiceId { get; set; } = "poolai";

    /// <summary>Orleans cluster id: silos and clients with the same id form one cluster.</summary>
    public string ClusterId { get; set; } = "poolai";

    /// <summary>How silos find each other: <c>localhost</c> (one machine) or <c>adonet</c> (the PostgreSQL database in <c>PoolAI:Database</c>).</summary>
    public string Clustering { get; set; } = "localhost";

    /// <summary>Silo-to-silo port.</summary>
    public int SiloPort { get; set; } = 11111;

    /// <summary>Port clients connect to; 0 for none (miners take no clients: clients and gateways talk to coordinators).</summary>
    public int GatewayPort { get; set; } = 30000;

    /// <summary>Membership probe timeout between silos; with <see cref="MissedProbesLimit"/> it bounds how long a killed silo stays listed as active.</summary>
    public TimeSpan ProbeTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Missed probes after which a silo is suspected and voted dead.</summary>
    public int MissedProbesLimit { get; set; } = 3;

    /// <summary>With <c>adonet</c> clustering, the IP address other silos and clients reach this silo at; empty picks one of this host's addresses.</summary>
    public string? AdvertisedAddress { get; set; }

    /// <summary>With localhost clustering, the silo port of the first silo (the coordinator) that later silos join; 0 for the first silo itself.</summary>
    public int PrimarySiloPort { get; set; }

    /// <summary>
    /// Orleans' activation rebalancer: when a coordinator joins, the stateful activations of the others spread onto it.
    /// The rebalancer runs cluster-wide, so set this the same on every silo of the pool.
    /// </summary>
    public bool Rebalancing { get; set; }
}

/// <summary>Where grain state lives (configuration section <c>PoolAI:Storage</c>).</summary>
public sealed class PoolStorageOptions
{
    /// <summary>Configuration section.</summary>
    public const string Section = "PoolAI:Storage";

    /// <summary><c>sqlite</c> (ADO.NET provider, durable) or <c>memory</c> (lost when the silo stops).</summary>
    public string Provider { get; set; } = "sqlite";

    /// <summary>ADO.NET connection string; for SQLite, null means <c>Data Source=$POOLAI_HOME/pool.db</c>.</summary>
    public string? ConnectionString { get; set; }
}

/// <summary>What a miner offers (configuration section <c>PoolAI:Miner</c>).</summary>
public sealed class PoolMinerOptions
{
    /// <summary>Configuration section.</summary>
    public const string Section = "PoolAI:Miner";

    /// <summary>Model ids to serve; empty serves every model in the registry.</summary>
    public List<string> Models { get; set; } = [];

    /// <summary>Generations run at once; 0 means <see cref="MaxBatch"/> (they share forward passes, so a silo takes a batch's worth).</summary>
    public int Slots { get; set; }

    /// <summary>Most generations of one model that share a decode pass (continuous batching); more wait their turn.</summary>
    public int MaxBatch { get; set; } = PoolAI.Models.ContinuousBatcher.DefaultMaxBatch;

    /// <summary><c>cpu</c> or <c>cuda</c>.</summary>
    public string Device { get; set; } = "cpu";

    /// <summary>
    /// How generations are decoded: <c>native</c> (PoolAI's CPU decoder, exact by construction; the default) or
    /// <c>torch</c> (TorchSharp, passes padded to 4 rows; for devices the native decoder does not serve). The two give
    /// different text for the same seed: every miner of a pool should use the same.
    /// </summary>
    public string Decoder { get; set; } = "native";

    /// <summary>GPU memory offered, MiB (advertised as <c>poolai.gpu_memory_mb</c> and matched against jobs' <c>min_gpu_memory_mb</c>); 0 on a CPU miner.</summary>
    public long GpuMemoryMb { get; set; }

    /// <summary>
    /// On a graceful stop (SIGTERM, Ctrl+C), how long running generations may take to finish before the miner hands
    /// them back to the queue (the job then runs elsewhere without losing an attempt).
    /// </summary>
    public TimeSpan DrainTimeout { get; set; } = TimeSpan.FromSeconds(10);
}

/// <summary>The shared PostgreSQL database of a multi-machine pool (configuration section <c>PoolAI:Database</c>).</summary>
public sealed class PoolDatabaseOptions
{
    /// <summary>Configuration section.</summary>
    public const string Section = "PoolAI:Database";

    /// <summary>Configuration key of the connection string; set it from the environment (<c>PoolAI__Database__ConnectionString</c>), never in a committed file.</summary>
    public const string ConnectionStringKey = "PoolAI:Database:ConnectionString";

    /// <summary>Npgsql connection string.</summary>
    public string? ConnectionString { get; set; }

    /// <summary>Apply the schema (idempotently) when the silo starts.</summary>
    public bool Migrate { get; set; }
}
