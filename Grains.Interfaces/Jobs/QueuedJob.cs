namespace PoolAI.Jobs;

/// <summary>A waiting job, as its queue holds it.</summary>
/// <param name="JobId">The job.</param>
/// <param name="Priority">Higher first.</param>
/// <param name="EnqueuedAt">Older first within a priority.</param>
/// <param name="ExpiresAt">When its time to live ends.</param>
/// <param name="ExcludedWorkers">Workers that must not run it; null for none.</param>
/// <param name="Requester">Who asked; jobs of requesters with fewer running jobs go first within a priority.</param>
/// <param name="Requirements">Device and memory the silo must offer; null for any.</param>
/// <param name="TrustedOnly">True for a job marked <see cref="JobTrust.Trusted"/>: no open miner may run it.</param>
[GenerateSerializer, Immutable, Alias("poolai.QueuedJob")]
public sealed record QueuedJob(
    [property: Id(0)] Guid JobId,
    [property: Id(1)] int Priority,
    [property: Id(2)] DateTimeOffset EnqueuedAt,
    [property: Id(3)] DateTimeOffset ExpiresAt = default,
    [property: Id(4)] IReadOnlyList<string>? ExcludedWorkers = null,
    [property: Id(5)] string? Requester = null,
    [property: Id(6)] JobRequirements? Requirements = null,
    [property: Id(7)] bool TrustedOnly = false)
{
    /// <summary>
    /// The jobs that may run on exactly the same silos share this key (empty for a job that may run anywhere the model
    /// is served): its requirements and its excluded workers.
    /// </summary>
    public string ConstraintKey => Requirements is null or { IsEmpty: true } && ExcludedWorkers is not { Count: > 0 } && !TrustedOnly
        ? string.Empty
        : $"{Requirements?.Device}|{Requirements?.MinMemoryMb}|{Requirements?.MinGpuMemoryMb}|{(ExcludedWorkers is { } e ? string.Join(',', e.Order(StringComparer.Ordinal)) : string.Empty)}|{(TrustedOnly ? "trusted" : string.Empty)}";
}


