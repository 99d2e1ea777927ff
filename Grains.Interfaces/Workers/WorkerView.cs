namespace PoolAI.Workers;

/// <summary>A worker as the pool sees it.</summary>
/// <param name="Id">Miner's stable worker id.</param>
/// <param name="Silo">Address of its current silo.</param>
/// <param name="Capabilities">What it advertised.</param>
/// <param name="Status">Whether it takes new work.</param>
/// <param name="LastHeartbeat">When it last reported.</param>
/// <param name="JobsSucceeded">Jobs it finished with a result.</param>
/// <param name="JobsFailed">Jobs that failed on it.</param>
/// <param name="TokensGenerated">Tokens it generated in total.</param>
/// <param name="TokensPerSecond">Exponential moving average of its generation speed.</param>
/// <param name="StatusReason">Why the worker is not active, when it is not (shown to the miner and to admins).</param>
[GenerateSerializer, Immutable, Alias("poolai.WorkerView")]
public sealed record WorkerView(
    [property: Id(0)] string Id,
    [property: Id(1)] string? Silo,
    [property: Id(2)] WorkerCapabilities? Capabilities,
    [property: Id(3)] WorkerStatus Status,
    [property: Id(4)] DateTimeOffset? LastHeartbeat,
    [property: Id(5)] long JobsSucceeded,
    [property: Id(6)] long JobsFailed,
    [property: Id(7)] long TokensGenerated,
    [property: Id(8)] double TokensPerSecond,
    [property: Id(9)] string? StatusReason = null);
