using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using PoolAI.Auth;
using PoolAI.Gateway.Auth;

namespace PoolAI.Gateway.Admin;

/// <summary>
/// Browser access to the Orleans dashboard at <c>/dashboard</c>. A browser cannot send a bearer header with the
/// dashboard's page and the requests the page makes, so an admin signs in once at <c>/signin</c> with an admin API key;
/// the gateway answers with a JWT for that key (as <c>POST /api/auth/token</c> issues, with its lifetime) in a cookie
/// that only <c>/dashboard</c> requests carry (HttpOnly, SameSite=Strict, Secure over HTTPS). The JWT scheme reads the
/// cookie there, and only there and only without an Authorization header, so the API never acts on a cookie (no
/// cross-site request can use it). Revoking the key ends the session, as for any of its tokens.
/// </summary>
public static class DashboardSignIn
{
    /// <summary>The sign-in page (GET) and form target (POST).</summary>
    public const string SignInPath = "/signin";

    /// <summary>Where the dashboard is mapped.</summary>
    public const string DashboardPath = "/dashboard";

    /// <summary>The cookie holding the signed-in admin's JWT.</summary>
    public const string CookieName = "poolai_dashboard";

    /// <summary>Maps the sign-in page and sends a browser that comes to the dashboard without credentials there.</summary>
    public static WebApplication MapDashboardSignIn(this WebApplication app)
    {
        app.MapGet(SignInPath, () => Page(null, StatusCodes.Status200OK)).AllowAnonymous().ExcludeFromDescription();
        app.MapPost(SignInPath, SignInAsync).AllowAnonymous().DisableAntiforgery().RequireRateLimiting(AuthApi.PerKeyPolicy).ExcludeFromDescription();
        return app;
    }

    /// <summary>Sends a browser page request for the dashboard that carries no credentials to the sign-in page (API clients, which send no <c>Accept: text/html</c>, still get 401).</summary>
    public static IApplicationBuilder UseDashboardSignInRedirect(this IApplicationBuilder app) => app.Use((context, next) =>
    {
        var request = context.Request;
        if (HttpMethods.IsGet(request.Method) && request.Path.StartsWithSegments(DashboardPath)
            && !request.Headers.ContainsKey("Authorization") && !request.Cookies.ContainsKey(CookieName)
            && request.Headers.Accept.ToString().Contains("text/html", StringComparison.OrdinalIgnoreCase))
        {
            context.Response.Redirect(SignInPath);
            return Task.CompletedTask;
        }

        return next(context);
    });

    /// <summary>For <see cref="JwtBearerEvents.OnMessageReceived"/>: takes the token from the cookie on dashboard requests without an Authorization header.</summary>
    public static Task ReadCookieAsync(MessageReceivedContext context)
    {
        var request = context.Request;
        if (context.Token is null && !request.Headers.ContainsKey("Authorization") && request.Path.StartsWithSegments(DashboardPath)
            && request.Cookies.TryGetValue(CookieName, out var token) && token.Length > 0)
            context.Token = token;
        return Task.CompletedTask;
    }

    private static async Task<IResult> SignInAsync(HttpContext context, IGrainFactory grains, TokenIssuer issuer, TimeProvider time)
    {
        if (!context.Request.HasFormContentType)
            return Page("api_key: send the sign-in form (application/x-www-form-urlencoded)", StatusCodes.Status415UnsupportedMediaType);
        var key = (await context.Request.ReadFormAsync()).TryGetValue("api_key", out var value) ? value.ToString().Trim() : string.Empty;
        if (key.Length == 0)
            return Page("api_key: is required", StatusCodes.Status400BadRequest);
        if (ApiKeys.IdOf(key) is not { } id)
            return Page("api_key: must be a PoolAI API key (pai_…)", StatusCodes.Status400BadRequest);
        var view = await grains.GetGrain<IApiKeyGrain>(id).VerifyAsync(ApiKeys.Hash(key));
        if (view is null)
            return Page("unknown or revoked API key", StatusCodes.Status401Unauthorized);
        if (view.Role != ApiRoles.Admin)
            return Page($"the dashboard is for admin keys; this key's role is {view.Role}", StatusCodes.Status403Forbidden);

        context.Response.Cookies.Append(CookieName, issuer.Issue(view, time.GetUtcNow()), new CookieOptions
        {
            HttpOnly = true,
            Secure = context.Request.IsHttps,
            SameSite = SameSiteMode.Strict,
            Path = DashboardPath,
            MaxAge = issuer.Lifetime,
        });
        context.Response.Headers.Location = DashboardPath + "/";
        return TypedResults.StatusCode(StatusCodes.Status303SeeOther);
    }

    private static IResult Page(string? error, int status) => TypedResults.Content(
        $"""
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><title>PoolAI dashboard: sign in</title></head>
        <body style="font-family: sans-serif; max-width: 32em; margin: 4em auto">
        <h1>PoolAI dashboard</h1>
        {(error is null ? string.Empty : $"<p role=\"alert\" style=\"color: #b00\">{HtmlEncoder.Default.Encode(error)}</p>")}
        <form method="post" action="{SignInPath}">
        <label>Admin API key <input type="password" name="api_key" autocomplete="off" required size="40"></label>
        <button type="submit">Sign in</button>
        </form>
        <p>Create one with <code>poolai keys create --role admin</code>.</p>
        </body></html>
        """,
        "text/html; charset=utf-8",
        statusCode: status);
}
