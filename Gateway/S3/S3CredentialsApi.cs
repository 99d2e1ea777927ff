using System.ComponentModel;
using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using PoolAI.Auth;
using PoolAI.Gateway.Auth;
using PoolAI.Gateway.S3.Signing;

namespace PoolAI.Gateway.S3;

/// <summary>The S3 credentials of the caller's API key, for an S3 client pointed at <see cref="Endpoint"/>.</summary>
/// <param name="AccessKeyId">AWS access key id: <c>PAI</c> and the key's id in upper case.</param>
/// <param name="SecretAccessKey">AWS secret access key, derived from the key's id and the gateway's S3 master secret; revoking the key revokes it.</param>
/// <param name="Endpoint">The S3 endpoint (path-style addressing).</param>
/// <param name="Region">The region to sign for.</param>
public sealed record S3CredentialsView(
    [property: Description("AWS access key id: PAI and the API key's id in upper case")] string AccessKeyId,
    [property: Description("AWS secret access key; it lives as long as the API key")] string SecretAccessKey,
    [property: Description("The S3 endpoint; use path-style addressing")] string Endpoint,
    [property: Description("The region to sign for")] string Region);

/// <summary><c>GET /api/s3/credentials</c>: an API key's S3 credentials, for its holder.</summary>
public static class S3CredentialsApi
{
    /// <summary>Maps <c>GET /api/s3/credentials</c> (developer and admin keys; rate-limited per key).</summary>
    public static IEndpointRouteBuilder MapS3CredentialsApi(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/api/s3/credentials", GetCredentials).WithTags("S3")
            .RequireAuthorization(GatewayAuth.DeveloperPolicy).RequireRateLimiting(AuthApi.PerKeyPolicy);
        return routes;
    }

    /// <summary>
    /// The S3 credentials of the API key the caller authenticated with (the key itself, or a token issued for it); 403
    /// for a token that was not issued for a key.
    /// </summary>
    public static Results<Ok<S3CredentialsView>, ProblemHttpResult> GetCredentials(ClaimsPrincipal user, HttpRequest request, S3SecretKeys secrets, IOptions<S3Options> options)
    {
        var keyId = user.FindFirst("sub")?.Value;
        if (keyId is not { Length: 12 } || !keyId.All(char.IsAsciiHexDigitLower))
            return ApiErrors.Problem(StatusCodes.Status403Forbidden, "Not an API key", "S3 credentials belong to an API key: authenticate with the key (Bearer pai_…) or a token issued for it");
        var endpoint = $"{request.Scheme}://{request.Host}{request.PathBase}{S3Api.Prefix}";
        return TypedResults.Ok(new S3CredentialsView(S3Credentials.AccessKeyIdOf(keyId), secrets.SecretFor(keyId), endpoint, options.Value.Region));
    }
}
