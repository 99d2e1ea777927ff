namespace PoolAI.Jobs;

/// <summary>
/// What a silo must offer to run a job, matched against the silo metadata a miner advertises
/// (<see cref="PoolKeys.DeviceMetadata"/>, <see cref="PoolKeys.MemoryMetadata"/>, <see cref="PoolKeys.GpuMemoryMetadata"/>);
/// the model is matched by the queue the job waits in. A job whose requirements no serving silo meets waits, with the
/// reason in its status message, until one joins.
/// </summary>
/// <param name="Device">Device class the job must run on, <c>cpu</c> or <c>cuda</c>; null for any.</param>
/// <param name="MinMemoryMb">Least host memory the silo must have, in MiB (2^20 bytes); 0 for any.</param>
/// <param name="MinGpuMemoryMb">Least GPU memory the silo must have, in MiB; 0 for any. A value above 0 implies a <c>cuda</c> silo.</param>
[GenerateSerializer, Immutable, Alias("poolai.JobRequirements")]
public sealed record JobRequirements(
    [property: Id(0)] string? Device = null,
    [property: Id(1)] long MinMemoryMb = 0,
    [property: Id(2)] long MinGpuMemoryMb = 0)
{
    /// <summary>Largest memory figure accepted, MiB (16 TiB).</summary>
    public const long MaxMemoryMb = 16L * 1024 * 1024;

    /// <summary>True when nothing is required. Derived, so not part of a job's JSON.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public bool IsEmpty => Device is null && MinMemoryMb == 0 && MinGpuMemoryMb == 0;

    /// <summary>True when a silo of <paramref name="device"/> class with <paramref name="memoryMb"/> and <paramref name="gpuMemoryMb"/> MiB meets these requirements.</summary>
    public bool AreMetBy(string device, long memoryMb, long gpuMemoryMb) =>
        (Device is null || string.Equals(Device, device, StringComparison.Ordinal))
        && (MinGpuMemoryMb == 0 || string.Equals(device, "cuda", StringComparison.Ordinal))
        && memoryMb >= MinMemoryMb
        && gpuMemoryMb >= MinGpuMemoryMb;

    /// <summary>Checks the ranges; returns normally when they hold.</summary>
    /// <exception cref="JobValidationException">The first rule broken, naming the field (<c>requirements.device</c>, …).</exception>
    public void Validate()
    {
        if (Device is not (null or "cpu" or "cuda"))
            throw new JobValidationException("requirements.device", $"must be 'cpu' or 'cuda', was '{Device}'");
        if (MinMemoryMb is < 0 or > MaxMemoryMb)
            throw new JobValidationException("requirements.min_memory_mb", $"must be between 0 and {MaxMemoryMb}, was {MinMemoryMb}");
        if (MinGpuMemoryMb is < 0 or > MaxMemoryMb)
            throw new JobValidationException("requirements.min_gpu_memory_mb", $"must be between 0 and {MaxMemoryMb}, was {MinGpuMemoryMb}");
        if (MinGpuMemoryMb > 0 && Device == "cpu")
            throw new JobValidationException("requirements.min_gpu_memory_mb", "must be 0 when the device is 'cpu'");
    }

    /// <summary>Words for a status message, e.g. <c>device cuda, 8192 MiB GPU memory</c>.</summary>
    public override string ToString()
    {
        var parts = new List<string>();
        if (Device is not null)
            parts.Add($"device {Device}");
        if (MinMemoryMb > 0)
            parts.Add($"{MinMemoryMb} MiB memory");
        if (MinGpuMemoryMb > 0)
            parts.Add($"{MinGpuMemoryMb} MiB GPU memory");
        return parts.Count == 0 ? "none" : string.Join(", ", parts);
    }
}
