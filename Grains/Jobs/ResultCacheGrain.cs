using Microsoft.Extensions.Options;
using PoolAI.Placement;

namespace PoolAI.Jobs;

/// <summary>A result cache entry's persisted state (state name <c>resultcache</c>).</summary>
[GenerateSerializer, Alias("poolai.ResultCacheState")]
public sealed class ResultCacheState
{
    /// <summary>The cached result; null when none is stored.</summary>
    [Id(0)] public CachedResult? Entry { get; set; }
}

/// <summary>
/// One result cache entry on a coordinator silo, keyed by <see cref="ResultCacheKey"/>. Persisted, so a coordinator
/// restart keeps the cache, and one grain per key, so lookups spread over coordinators with no singleton on the submit
/// path. An entry holds what a worker generated for exactly the request in its key, and the key holds the
/// checkpoint's weights hash, so a crash or a retrained model can lose entries but never serve a wrong one. Entries live for
/// <see cref="JobOptions.ResultCacheTimeToLive"/>.
/// </summary>
[CoordinatorFilter]
public sealed class ResultCacheGrain(
    [PersistentState("resultcache", PoolKeys.Storage)] IPersistentState<ResultCacheState> state,
    IOptions<JobOptions> options,
    TimeProvider time) : Grain, IResultCacheGrain
{
    /// <inheritdoc />
    public async Task<CachedResult?> GetAsync()
    {
        if (state.State.Entry is not { } entry)
            return null;
        if (IsLive(entry))
            return entry;
        await state.ClearStateAsync();
        return null;
    }

    /// <inheritdoc />
    public async Task StoreAsync(CachedResult entry)
    {
        if (state.State.Entry is { } stored && IsLive(stored))
            return;
        state.State.Entry = entry with { Result = entry.Result with { CachedFrom = null } };
        await state.WriteStateAsync();
    }

    /// <inheritdoc />
    public async Task EvictAsync(Guid jobId)
    {
        if (state.State.Entry?.JobId == jobId)
            await state.ClearStateAsync();
    }

    private bool IsLive(CachedResult entry) => time.GetUtcNow() - entry.StoredAt < options.Value.ResultCacheTimeToLive;
}
