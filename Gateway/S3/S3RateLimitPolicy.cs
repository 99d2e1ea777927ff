using System.Threading.RateLimiting;
using Microsoft.AspNetCore.RateLimiting;
using PoolAI.Gateway.Auth;

namespace PoolAI.Gateway.S3;

/// <summary>
/// The gateway's per-key rate limit (<see cref="RateLimitOptions"/>: a token bucket per API key) for <c>/s3</c>, with
/// its own buckets, answering a refused request as S3 does: 503 SlowDown, which S3 clients retry with back-off.
/// </summary>
/// <param name="options">Permits per second and burst.</param>
public sealed class S3RateLimitPolicy(RateLimitOptions options) : IRateLimiterPolicy<string>
{
    /// <inheritdoc />
    public Func<OnRejectedContext, CancellationToken, ValueTask>? OnRejected => async (context, _) =>
    {
        await S3Result.WriteErrorAsync(context.HttpContext, S3Errors.SlowDown(
            $"Please reduce your request rate: this key may make {options.PermitsPerSecond} requests per second (bursts of {options.Burst})."));
    };

    /// <inheritdoc />
    public RateLimitPartition<string> GetPartition(HttpContext httpContext) => RateLimitPartition.GetTokenBucketLimiter(
        httpContext.User.FindFirst("sub")?.Value is { } subject ? $"s3:key:{subject}" : $"s3:ip:{httpContext.Connection.RemoteIpAddress}",
        _ => new TokenBucketRateLimiterOptions
        {
            TokenLimit = options.Burst,
            TokensPerPeriod = options.PermitsPerSecond,
            ReplenishmentPeriod = TimeSpan.FromSeconds(1),
            QueueLimit = 0,
            AutoReplenishment = true,
        });
}
