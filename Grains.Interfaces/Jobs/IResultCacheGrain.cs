namespace PoolAI.Jobs;

/// <summary>
/// One entry of the result cache, keyed by <c>ResultCacheKey</c>: the hex SHA-256 of a generation's model, the model
/// checkpoint's weights hash, the job kind and the canonical settings (prompt, max tokens, temperature, top-k, top-p,
/// seed, stop list). A job with the same key would produce the same tokens, so its result can be served from here.
/// </summary>
[Alias("poolai.IResultCacheGrain")]
public interface IResultCacheGrain : IGrainWithStringKey
{
    /// <summary>The stored result, or null when there is none or it is older than the cache's time to live.</summary>
    Task<CachedResult?> GetAsync();

    /// <summary>Stores a succeeded job's result unless a live entry exists (the first stays: the output is the same).</summary>
    Task StoreAsync(CachedResult entry);

    /// <summary>Removes the entry if it holds the result of <paramref name="jobId"/>, whose output failed verification.</summary>
    Task EvictAsync(Guid jobId);
}
