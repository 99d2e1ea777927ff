namespace PoolAI.Jobs;

/// <summary>Where the queue starts a job's attempt: the silo holding the reserved slot, its worker and device class.</summary>
/// <param name="Silo">Silo address as <c>SiloAddress.ToString()</c> writes it.</param>
/// <param name="Worker">The silo's worker id; null when it advertises none.</param>
/// <param name="Device">Device class, <c>cpu</c> or <c>cuda</c>.</param>
[GenerateSerializer, Immutable, Alias("poolai.JobPlacement")]
public sealed record JobPlacement(
    [property: Id(0)] string Silo,
    [property: Id(1)] string? Worker = null,
    [property: Id(2)] string Device = "cpu");
