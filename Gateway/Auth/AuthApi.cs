using System.Text.Json.Serialization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.RateLimiting;
using PoolAI.Auth;

namespace PoolAI.Gateway.Auth;

/// <summary>Body of <c>POST /api/auth/token</c>.</summary>
public sealed record TokenRequest
{
    /// <summary>An API key, <c>pai_…</c>.</summary>
    [JsonPropertyName("apiKey")]
    public string? ApiKey { get; init; }
}

/// <summary>Answer of <c>POST /api/auth/token</c>, in OAuth 2.0's token response shape (RFC 6749 §5.1).</summary>
/// <param name="AccessToken">The JWT.</param>
/// <param name="TokenType">Always <c>Bearer</c>.</param>
/// <param name="ExpiresIn">Seconds until it expires.</param>
public sealed record TokenResponse(
    [property: JsonPropertyName("access_token")] string AccessToken,
    [property: JsonPropertyName("token_type")] string TokenType,
    [property: JsonPropertyName("expires_in")] int ExpiresIn);

/// <summary>Per-key rate limits (configuration section <c>PoolAI:Gateway:RateLimit</c>): a token bucket per API key or token subject, per client address when anonymous.</summary>
public sealed class RateLimitOptions
{
    /// <summary>Configuration section.</summary>
    public const string Section = "PoolAI:Gateway:RateLimit";

    /// <summary>Requests a key may make per second, sustained (default 100).</summary>
    public int PermitsPerSecond { get; set; } = 100;

    /// <summary>Requests a key may make at once after being idle (default 200).</summary>
    public int Burst { get; set; } = 200;
}

/// <summary>The token endpoint and the rate limiter.</summary>
public static class AuthApi
{
    /// <summary>Name of the per-key rate-limiting policy.</summary>
    public const string PerKeyPolicy = "per-key";

    /// <summary>Maps <c>POST /api/auth/token</c>: an API key for a JWT (401 for an unknown or revoked key).</summary>
    public static IEndpointRouteBuilder MapAuthApi(this IEndpointRouteBuilder routes)
    {
        routes.MapPost("/api/auth/token", IssueAsync).WithTags("Auth").AllowAnonymous().RequireRateLimiting(PerKeyPolicy); // per client address
        return routes;
    }

    /// <summary>Exchanges an API key for a JWT with its role.</summary>
    public static async Task<Results<Ok<TokenResponse>, ValidationProblem, ProblemHttpResult>> IssueAsync(TokenRequest request, IGrainFactory grains, TokenIssuer issuer, TimeProvider time)
    {
        if (string.IsNullOrWhiteSpace(request.ApiKey))
            return ApiErrors.Invalid("apiKey", "is required");
        if (ApiKeys.IdOf(request.ApiKey) is not { } id)
            return ApiErrors.Invalid("apiKey", "must be a PoolAI API key (pai_…)");
        var view = await grains.GetGrain<IApiKeyGrain>(id).VerifyAsync(ApiKeys.Hash(request.ApiKey));
        if (view is null)
            return TypedResults.Problem(title: "Unknown or revoked API key", statusCode: StatusCodes.Status401Unauthorized);
        return TypedResults.Ok(new TokenResponse(issuer.Issue(view, time.GetUtcNow()), "Bearer", (int)issuer.Lifetime.TotalSeconds));
    }

    /// <summary>Adds the per-key token-bucket limiter; a refused request gets 429 with <c>Retry-After</c> (seconds).</summary>
    public static IServiceCollection AddGatewayRateLimits(this IServiceCollection services, IConfiguration configuration)
    {
        var options = configuration.GetSection(RateLimitOptions.Section).Get<RateLimitOptions>() ?? new RateLimitOptions();
        if (options.PermitsPerSecond < 1)
            throw new Silo.Hosting.PoolConfigurationException($"{RateLimitOptions.Section}:PermitsPerSecond", $"must be at least 1; was {options.PermitsPerSecond}");
        if (options.Burst < 1)
            throw new Silo.Hosting.PoolConfigurationException($"{RateLimitOptions.Section}:Burst", $"must be at least 1; was {options.Burst}");
        services.AddRateLimiter(limiter =>
        {
            limiter.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            limiter.AddPolicy(PerKeyPolicy, context => RateLimitPartition.GetTokenBucketLimiter(
                context.User.FindFirst("sub")?.Value is { } subject ? $"key:{subject}" : $"ip:{context.Connection.RemoteIpAddress}",
                _ => new TokenBucketRateLimiterOptions
                {
                    TokenLimit = options.Burst,
                    TokensPerPeriod = options.PermitsPerSecond,
                    ReplenishmentPeriod = TimeSpan.FromSeconds(1),
                    QueueLimit = 0,
                    AutoReplenishment = true,
                }));
            limiter.OnRejected = async (context, cancellationToken) =>
            {
                var retryAfter = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var after) ? after : TimeSpan.FromSeconds(1);
                context.HttpContext.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
                await TypedResults.Problem(title: "Too many requests", detail: $"this key may make {options.PermitsPerSecond} requests per second (bursts of {options.Burst})", statusCode: StatusCodes.Status429TooManyRequests)
                    .ExecuteAsync(context.HttpContext);
            };
        });
        return services;
    }
}
