namespace PoolAI.Workers;

/// <summary>What a miner's silo offers, as advertised in its silo metadata.</summary>
/// <param name="Device"><c>cpu</c> or <c>cuda</c>.</param>
/// <param name="Cores">Logical processors.</param>
/// <param name="MemoryMb">Physical memory, MiB.</param>
/// <param name="GpuMemoryMb">GPU memory, MiB; 0 without a GPU.</param>
/// <param name="Models">Model ids it serves.</param>
/// <param name="Slots">Jobs it runs at once per queue (for a model, generations sharing its batch).</param>
/// <param name="Kinds">Job kinds it runs; null from a worker that registered before kinds were advertised.</param>
[GenerateSerializer, Immutable, Alias("poolai.WorkerCapabilities")]
public sealed record WorkerCapabilities(
    [property: Id(0)] string Device,
    [property: Id(1)] int Cores,
    [property: Id(2)] long MemoryMb,
    [property: Id(3)] long GpuMemoryMb,
    [property: Id(4)] IReadOnlyList<string> Models,
    [property: Id(5)] int Slots,
    [property: Id(6)] IReadOnlyList<PoolAI.Jobs.JobKind>? Kinds = null);
