using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PoolAI.Execution;

namespace PoolAI.Jobs;

/// <summary>
/// The job grain's use of the result cache (<see cref="IResultCacheGrain"/>, keyed by <see cref="ResultCacheKey"/>):
/// a job whose kind gives its request an identity is looked up when it is accepted, and its worker's result is stored
/// before the job's success is. Best effort both ways: a cache that cannot be read or written costs a re-run, never a job.
/// </summary>
public sealed partial class ResultCaching(IGrainFactory grains, IOptions<JobOptions> options, TimeProvider time, ILogger<ResultCaching> logger)
{
    /// <summary>The cache key of <paramref name="spec"/>; null when the cache is off or the job does not use it.</summary>
    public string? KeyFor(JobSpec spec, JobKindDescriptor kind) =>
        options.Value.ResultCacheTimeToLive > TimeSpan.Zero ? ResultCacheKey.For(spec, kind) : null;

    /// <summary>A live cached result for job <paramref name="jobId"/>'s request; null on a miss, when it does not use the cache, or when the cache cannot be read.</summary>
    public async Task<CachedResult?> LookUpAsync(Guid jobId, JobSpec spec, JobKindDescriptor kind)
    {
        if (KeyFor(spec, kind) is not { } key)
            return null;
        try
        {
            return await grains.GetGrain<IResultCacheGrain>(key).GetAsync();
        }
        catch (Exception ex)
        {
            LogCacheFailed(jobId, ex);
            return null;
        }
    }

    /// <summary>Stores a result job <paramref name="jobId"/>'s worker produced; results served from the cache are not stored again.</summary>
    public async Task StoreAsync(Guid jobId, JobSpec spec, JobKindDescriptor kind, JobResult result)
    {
        // An open miner's result is its requester's alone: served to others from the cache, one cheat's output would
        // reach every identical request without anyone re-running it.
        if (result.Cached || !kind.Cacheable(result.Output) || Miners.OpenMiners.TryWorkerOf(result.Silo, out _) || KeyFor(spec, kind) is not { } key)
            return;
        try
        {
            await grains.GetGrain<IResultCacheGrain>(key).StoreAsync(new CachedResult(jobId, result, time.GetUtcNow()));
        }
        catch (Exception ex)
        {
            LogCacheFailed(jobId, ex);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId}: the result cache could not be read or written; the job goes on without it")]
    private partial void LogCacheFailed(Guid jobId, Exception exception);
}
