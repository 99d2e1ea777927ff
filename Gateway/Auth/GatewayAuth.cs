using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using PoolAI.Auth;
using PoolAI.Hosting;
using PoolAI.Silo.Hosting;

namespace PoolAI.Gateway.Auth;

/// <summary>Token settings (configuration section <c>PoolAI:Gateway:Auth</c>).</summary>
public sealed class GatewayAuthOptions
{
    /// <summary>Configuration section.</summary>
    public const string Section = "PoolAI:Gateway:Auth";

    /// <summary>
    /// HMAC-SHA256 signing key, base64, at least 32 bytes; from the environment (<c>PoolAI__Gateway__Auth__SigningKey</c>)
    /// or protected configuration. Unset: the gateway generates one on first start and keeps it in
    /// <c>$POOLAI_HOME/secrets/jwt-signing-key</c> (mode 600), outside the repository.
    /// </summary>
    public string? SigningKey { get; set; }

    /// <summary>Issuer of the tokens the gateway issues and accepts.</summary>
    public string Issuer { get; set; } = "poolai";

    /// <summary>Audience of the tokens.</summary>
    public string Audience { get; set; } = "poolai-api";

    /// <summary>Lifetime of an issued token (default one hour).</summary>
    public TimeSpan TokenLifetime { get; set; } = TimeSpan.FromHours(1);
}

/// <summary>
/// Authentication of the HTTP API: JWT bearer tokens (signature, issuer, audience and lifetime validated; roles in the
/// <c>role</c> claim) and API keys sent directly as <c>Authorization: Bearer pai_…</c>, so OpenAI clients configured with
/// an API key just work. Policies: <see cref="DeveloperPolicy"/> (developer or admin), <see cref="AdminPolicy"/>,
/// <see cref="MinerPolicy"/> (miner or admin).
/// </summary>
public static class GatewayAuth
{
    /// <summary>The scheme that picks JWT or API key by the shape of the bearer credential.</summary>
    public const string Scheme = "PoolAI";

    /// <summary>The API key scheme.</summary>
    public const string ApiKeyScheme = "ApiKey";

    /// <summary>Jobs and the OpenAI-compatible API.</summary>
    public const string DeveloperPolicy = "developer";

    /// <summary>Settings, workers, rewards corrections, libraries, the dashboard.</summary>
    public const string AdminPolicy = "admin";

    /// <summary>A miner's own data.</summary>
    public const string MinerPolicy = "miner";

    /// <summary>Clock skew allowed when checking a token's lifetime.</summary>
    public static readonly TimeSpan ClockSkew = TimeSpan.FromSeconds(5);

    /// <summary>Registers authentication and the role policies.</summary>
    /// <exception cref="PoolConfigurationException">The signing key is not base64 of at least 32 bytes.</exception>
    public static IServiceCollection AddGatewayAuth(this IServiceCollection services, IConfiguration configuration)
    {
        var options = configuration.GetSection(GatewayAuthOptions.Section).Get<GatewayAuthOptions>() ?? new GatewayAuthOptions();
        var key = new SymmetricSecurityKey(SigningKey(options));
        services.AddSingleton(new TokenIssuer(options, key));
        services.AddAuthentication(Scheme)
            .AddPolicyScheme(Scheme, "JWT or API key", o => o.ForwardDefaultSelector = context =>
                ApiKeys.IdOf(BearerOf(context.Request)) is not null ? ApiKeyScheme : JwtBearerDefaults.AuthenticationScheme)
            .AddScheme<AuthenticationSchemeOptions, ApiKeyHandler>(ApiKeyScheme, null)
            .AddJwtBearer(o =>
            {
                o.MapInboundClaims = false;
                o.Events = new JwtBearerEvents
                {
                    // The dashboard's browser session: its token in a cookie sent only to /dashboard (see DashboardSignIn).
                    OnMessageReceived = Admin.DashboardSignIn.ReadCookieAsync,
                    // A token issued for an API key dies with the key: revocation is checked on every request.
                    OnTokenValidated = async context =>
                    {
                        if (context.Principal?.FindFirst("sub")?.Value is { } subject && subject.Length == 12 && subject.All(char.IsAsciiHexDigitLower))
                        {
                            var key = await context.HttpContext.RequestServices.GetRequiredService<IGrainFactory>().GetGrain<IApiKeyGrain>(subject).GetAsync();
                            if (key is null || key.RevokedAt is not null)
                                context.Fail("the API key this token was issued for is revoked");
                        }
                    },
                };
                o.TokenValidationParameters = new TokenValidationParameters
                {
                    ValidIssuer = options.Issuer,
                    ValidAudience = options.Audience,
                    IssuerSigningKey = key,
                    ValidAlgorithms = [SecurityAlgorithms.HmacSha256],
                    ValidateIssuer = true,
                    ValidateAudience = true,
                    ValidateLifetime = true,
                    ValidateIssuerSigningKey = true,
                    RequireExpirationTime = true,
                    ClockSkew = ClockSkew,
                    RoleClaimType = "role",
                    NameClaimType = "sub",
                };
            });
        services.AddAuthorizationBuilder()
            .AddPolicy(DeveloperPolicy, p => p.RequireRole(ApiRoles.Developer, ApiRoles.Admin))
            .AddPolicy(AdminPolicy, p => p.RequireRole(ApiRoles.Admin))
            .AddPolicy(MinerPolicy, p => p.RequireRole(ApiRoles.Miner, ApiRoles.Admin));
        return services;
    }

    /// <summary>The bearer credential of the request, if any.</summary>
    public static string? BearerOf(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        return header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header["Bearer ".Length..].Trim() : null;
    }

    private static byte[] SigningKey(GatewayAuthOptions options)
    {
        if (options.SigningKey is { Length: > 0 } configured)
        {
            byte[] bytes;
            try
            {
                bytes = Convert.FromBase64String(configured);
            }
            catch (FormatException)
            {
                throw new PoolConfigurationException($"{GatewayAuthOptions.Section}:SigningKey", "must be base64");
            }

            return bytes.Length >= 32 ? bytes : throw new PoolConfigurationException($"{GatewayAuthOptions.Section}:SigningKey", $"must be at least 32 bytes; was {bytes.Length}");
        }

        return PoolSecrets.LoadOrCreate("jwt-signing-key", 32);
    }
}

/// <summary>Issues the gateway's JWTs.</summary>
public sealed class TokenIssuer(GatewayAuthOptions options, SymmetricSecurityKey key)
{
    /// <summary>Token lifetime.</summary>
    public TimeSpan Lifetime => options.TokenLifetime;

    /// <summary>A token for the API key <paramref name="apiKey"/>: subject = key id, <c>role</c> = its role.</summary>
    public string Issue(ApiKeyView apiKey, DateTimeOffset now) => new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
    {
        Issuer = options.Issuer,
        Audience = options.Audience,
        NotBefore = now.UtcDateTime,
        IssuedAt = now.UtcDateTime,
        Expires = (now + options.TokenLifetime).UtcDateTime,
        Claims = new Dictionary<string, object> { ["sub"] = apiKey.Id, ["role"] = apiKey.Role, ["name"] = apiKey.Name },
        SigningCredentials = new SigningCredentials(key, SecurityAlgorithms.HmacSha256),
    });
}

/// <summary>Authenticates <c>Authorization: Bearer pai_…</c> against the pool's API keys (by SHA-256; revoked keys fail).</summary>
public sealed class ApiKeyHandler(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, IGrainFactory grains)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    /// <inheritdoc />
    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var key = GatewayAuth.BearerOf(Request);
        if (ApiKeys.IdOf(key) is not { } id)
            return AuthenticateResult.NoResult();
        var view = await grains.GetGrain<IApiKeyGrain>(id).VerifyAsync(ApiKeys.Hash(key!));
        if (view is null)
            return AuthenticateResult.Fail("unknown or revoked API key");
        var identity = new ClaimsIdentity(
            [new Claim("sub", view.Id), new Claim("role", view.Role), new Claim("name", view.Name)],
            GatewayAuth.ApiKeyScheme, "sub", "role");
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), GatewayAuth.ApiKeyScheme));
    }
}
