namespace PoolAI.Jobs;

/// <summary>A result in the result cache.</summary>
/// <param name="JobId">The job whose worker produced it.</param>
/// <param name="Result">Its result as that job recorded it.</param>
/// <param name="StoredAt">When it was stored; the entry lives for <c>PoolAI:Jobs:ResultCacheTimeToLive</c> from then.</param>
[GenerateSerializer, Immutable, Alias("poolai.CachedResult")]
public sealed record CachedResult(
    [property: Id(0)] Guid JobId,
    [property: Id(1)] JobResult Result,
    [property: Id(2)] DateTimeOffset StoredAt);
