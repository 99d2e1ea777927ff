using Microsoft.AspNetCore.Http.HttpResults;
using PoolAI.Gateway.Auth;
using PoolAI.Jobs;
using PoolAI.Volumes;

namespace PoolAI.Gateway.Volumes;

/// <summary>Volume status for admins: <c>GET /api/volumes</c> and <c>GET /api/volumes/{name}</c>. Files themselves are reached through <c>/s3</c>, the SDK or the CLI.</summary>
public static class VolumesApi
{
    /// <summary>Maps the volume endpoints (admin role).</summary>
    public static IEndpointRouteBuilder MapVolumesApi(this IEndpointRouteBuilder routes)
    {
        var volumes = routes.MapGroup("/api/volumes").WithTags("Volumes").RequireAuthorization(GatewayAuth.AdminPolicy).RequireRateLimiting(AuthApi.PerKeyPolicy);
        volumes.MapGet("", ListAsync);
        volumes.MapGet("/{name}", GetAsync);
        return routes;
    }

    /// <summary>Every volume with its settings and usage.</summary>
    public static async Task<Ok<IReadOnlyList<VolumeView>>> ListAsync(IGrainFactory grains) =>
        TypedResults.Ok(await new VolumeClient(grains).ListVolumesAsync());

    /// <summary>One volume's health: stripes healthy, degraded and lost, bytes per store, rebuild and scrub progress; 404 when there is no such volume.</summary>
    public static async Task<Results<Ok<VolumeHealth>, ValidationProblem, ProblemHttpResult>> GetAsync(string name, IGrainFactory grains)
    {
        try
        {
            return TypedResults.Ok(await new VolumeClient(grains).Volume(name).GetHealthAsync());
        }
        catch (JobValidationException e)
        {
            return ApiErrors.Invalid(e.Field == "volume" ? "name" : e.Field, e.Rule);
        }
        catch (VolumeNotFoundException e)
        {
            return ApiErrors.NotFound(e.Message, "name");
        }
    }
}
