using Microsoft.AspNetCore.Http.HttpResults;
using PoolAI.Gateway.Auth;
using PoolAI.Libraries;

namespace PoolAI.Gateway.Admin;

/// <summary>One silo's answer, or why it gave none.</summary>
/// <typeparam name="T">The answer.</typeparam>
/// <param name="Silo">The silo.</param>
/// <param name="Result">Its answer; null when it failed.</param>
/// <param name="Error">Why it failed.</param>
public sealed record SiloAnswer<T>(string Silo, T? Result, string? Error);

/// <summary>
/// <c>/api/libraries</c> (admin): the native ML libraries on every active silo — check (what the library manager
/// found), install (load and repair), verify (a known tensor computation) and environment (machine and variables).
/// </summary>
public static class LibrariesApi
{
    /// <summary>Longest wait for one silo.</summary>
    public static readonly TimeSpan SiloTimeout = TimeSpan.FromMinutes(2);

    /// <summary>Maps the endpoints.</summary>
    public static IEndpointRouteBuilder MapLibrariesApi(this IEndpointRouteBuilder routes)
    {
        var libraries = routes.MapGroup("/api/libraries").WithTags("Libraries").RequireAuthorization(GatewayAuth.AdminPolicy).RequireRateLimiting(AuthApi.PerKeyPolicy);
        libraries.MapGet("/", (IGrainFactory grains) => OnEverySiloAsync(grains, g => g.CheckAsync()));
        libraries.MapPost("/install", (IGrainFactory grains) => OnEverySiloAsync(grains, g => g.InstallAsync()));
        libraries.MapPost("/verify", (IGrainFactory grains) => OnEverySiloAsync(grains, g => g.VerifyAsync()));
        libraries.MapGet("/environment", (IGrainFactory grains) => OnEverySiloAsync(grains, g => g.EnvironmentAsync()));
        return routes;
    }

    private static async Task<Ok<IReadOnlyList<SiloAnswer<T>>>> OnEverySiloAsync<T>(IGrainFactory grains, Func<ILibraryGrain, Task<T>> ask)
    {
        var hosts = await grains.GetGrain<IManagementGrain>(0).GetHosts(onlyActive: true);
        var answers = await Task.WhenAll(hosts.Keys.Select(async silo =>
        {
            var name = silo.ToString();
            try
            {
                return new SiloAnswer<T>(name, await ask(grains.GetGrain<ILibraryGrain>(name)).WaitAsync(SiloTimeout), null);
            }
            catch (Exception ex)
            {
                return new SiloAnswer<T>(name, default, $"{ex.GetType().Name}: {ex.Message}");
            }
        }));
        return TypedResults.Ok<IReadOnlyList<SiloAnswer<T>>>(answers.OrderBy(a => a.Silo, StringComparer.Ordinal).ToList());
    }
}
