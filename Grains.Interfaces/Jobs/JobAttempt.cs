namespace PoolAI.Jobs;

/// <summary>One try at running a job on a silo.</summary>
/// <param name="Number">1 for the first attempt.</param>
/// <param name="Silo">Silo the attempt ran on, once known.</param>
/// <param name="StartedAt">When the attempt was assigned.</param>
/// <param name="EndedAt">When it ended; null while it runs.</param>
/// <param name="Outcome">Why it ended (<c>succeeded</c>, an error, <c>cancelled</c>, <c>lease expired</c>); null while it runs.</param>
/// <param name="HandedBack">
/// The worker gave the job back unfinished because it was shutting down gracefully; such an attempt does not count
/// towards the job's maximum attempts.
/// </param>
/// <param name="Worker">Worker id of the silo the attempt was placed on, once known.</param>
/// <param name="Device">Device class of that silo (<c>cpu</c>, <c>cuda</c>), once known.</param>
[GenerateSerializer, Immutable, Alias("poolai.JobAttempt")]
public sealed record JobAttempt(
    [property: Id(0)] int Number,
    [property: Id(1)] string? Silo,
    [property: Id(2)] DateTimeOffset StartedAt,
    [property: Id(3)] DateTimeOffset? EndedAt = null,
    [property: Id(4)] string? Outcome = null,
    [property: Id(5)] bool HandedBack = false,
    [property: Id(6)] string? Worker = null,
    [property: Id(7)] string? Device = null);
