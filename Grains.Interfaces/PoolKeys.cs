namespace PoolAI;

/// <summary>Fixed names used across the pool: storage providers, metadata keys.</summary>
public static class PoolKeys
{
    /// <summary>Grain storage provider that holds jobs, queues, workers and ledgers.</summary>
    public const string Storage = "pool";

    /// <summary>Silo metadata key: the silo's role (<c>coordinator</c>, <c>miner</c>, <c>all-in-one</c>).</summary>
    public const string RoleMetadata = "poolai.role";

    /// <summary>Silo metadata key: comma-separated model ids the silo serves.</summary>
    public const string ModelsMetadata = "poolai.models";

    /// <summary>Silo metadata key: comma-separated job kinds the silo runs (see <c>JobKindRegistry</c>).</summary>
    public const string KindsMetadata = "poolai.kinds";

    /// <summary>Silo metadata key: jobs the silo runs at once per queue (for a model, generations sharing its batch).</summary>
    public const string SlotsMetadata = "poolai.slots";

    /// <summary>Silo metadata key: <c>cpu</c> or <c>cuda</c>.</summary>
    public const string DeviceMetadata = "poolai.device";

    /// <summary>Silo metadata key: logical processors.</summary>
    public const string CoresMetadata = "poolai.cores";

    /// <summary>Silo metadata key: physical memory in MiB.</summary>
    public const string MemoryMetadata = "poolai.memory_mb";

    /// <summary>Silo metadata key: GPU memory in MiB (0 on a CPU miner).</summary>
    public const string GpuMemoryMetadata = "poolai.gpu_memory_mb";

    /// <summary>Silo metadata key: the miner's stable worker id.</summary>
    public const string WorkerMetadata = "poolai.worker";

    /// <summary>Silo metadata key: the serial number (hex) of the silo's certificate from the pool's authority, when it has one; a revocation evicts the silo that advertises it.</summary>
    public const string CertificateMetadata = "poolai.certificate";
}
