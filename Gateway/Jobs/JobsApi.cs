using Microsoft.AspNetCore.Http.HttpResults;
using PoolAI.Client.Sdk;
using PoolAI.Jobs;
using PoolAI.Models;

namespace PoolAI.Gateway.Jobs;

/// <summary>The job API: submit text generation, read a job, cancel it, list models.</summary>
public static class JobsApi
{
    /// <summary>Maps <c>/api/jobs</c> and <c>/api/models</c>.</summary>
    public static IEndpointRouteBuilder MapJobsApi(this IEndpointRouteBuilder routes)
    {
        var jobs = routes.MapGroup("/api/jobs").WithTags("Jobs").RequireAuthorization(Auth.GatewayAuth.DeveloperPolicy).RequireRateLimiting(Auth.AuthApi.PerKeyPolicy);
        jobs.MapPost("/", SubmitAsync);
        jobs.MapGet("/{id:guid}", GetAsync);
        jobs.MapPost("/{id:guid}/cancel", CancelAsync);
        routes.MapGet("/api/models", ListModels).WithTags("Models").RequireAuthorization(Auth.GatewayAuth.DeveloperPolicy).RequireRateLimiting(Auth.AuthApi.PerKeyPolicy);
        return routes;
    }

    /// <summary>Accepts a job: 202 with its view and location, or 400 naming the field and rule.</summary>
    public static async Task<Results<Accepted<JobView>, ValidationProblem>> SubmitAsync(GenerateRequest request, IGrainFactory grains, System.Security.Claims.ClaimsPrincipal user)
    {
        try
        {
            var view = await new PoolClient(grains).SubmitAsync(request.ToSpec(user.FindFirst("sub")?.Value ?? "anonymous"));
            return TypedResults.Accepted($"/api/jobs/{view.Id}", view);
        }
        catch (JobValidationException ex)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { [ex.Field] = [ex.Rule] });
        }
    }

    /// <summary>The job, or 404.</summary>
    public static async Task<Results<Ok<JobView>, NotFound>> GetAsync(Guid id, IGrainFactory grains)
    {
        try
        {
            return TypedResults.Ok(await new PoolClient(grains).GetAsync(id));
        }
        catch (KeyNotFoundException)
        {
            return TypedResults.NotFound();
        }
    }

    /// <summary>Cancels the job if it has not finished; 404 for an unknown id.</summary>
    public static async Task<Results<Ok<JobView>, NotFound>> CancelAsync(Guid id, IGrainFactory grains)
    {
        try
        {
            return TypedResults.Ok(await new PoolClient(grains).CancelAsync(id, "cancelled over HTTP"));
        }
        catch (KeyNotFoundException)
        {
            return TypedResults.NotFound();
        }
    }

    /// <summary>The models in the registry.</summary>
    public static Ok<IEnumerable<ModelSummary>> ListModels(ModelRegistry registry) =>
        TypedResults.Ok(registry.Models.Select(m => new ModelSummary(m.Id, m.Kind, m.Description, m.Weights?.Parameters ?? 0, m.Architecture?.BlockSize ?? 0, m.Training?.ValLoss)));
}

/// <summary>A model as <c>GET /api/models</c> lists it.</summary>
/// <param name="Id">Model id.</param>
/// <param name="Kind"><c>text</c> or <c>code</c>.</param>
/// <param name="Description">One line.</param>
/// <param name="Parameters">Number of weights.</param>
/// <param name="ContextLength">Block size, tokens.</param>
/// <param name="ValidationLoss">Held-out loss at the end of training, nats/token.</param>
public sealed record ModelSummary(string Id, string Kind, string Description, long Parameters, int ContextLength, double? ValidationLoss);
