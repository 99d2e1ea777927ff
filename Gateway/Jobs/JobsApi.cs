using System.Security.Claims;
using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;
using PoolAI.Auth;
using PoolAI.Client.Sdk;
using PoolAI.Gateway.Auth;
using PoolAI.Jobs;
using PoolAI.Models;

namespace PoolAI.Gateway.Jobs;

/// <summary>
/// The job API for developers: submit, list with filters and paging, read, cancel, re-prioritise, and follow a job's
/// events as server-sent events. A developer sees the jobs of its own key; an admin sees every job and may list any
/// requester's.
/// </summary>
public static partial class JobsApi
{
    /// <summary>Maps <c>/api/jobs</c> and <c>/api/models</c>.</summary>
    public static IEndpointRouteBuilder MapJobsApi(this IEndpointRouteBuilder routes)
    {
        var jobs = routes.MapGroup("/api/jobs").WithTags("Jobs").RequireAuthorization(GatewayAuth.DeveloperPolicy).RequireRateLimiting(AuthApi.PerKeyPolicy);
        jobs.MapPost("/", SubmitAsync);
        jobs.MapGet("/", ListAsync);
        jobs.MapGet("/{id:guid}", GetAsync);
        jobs.MapPost("/{id:guid}/cancel", CancelAsync);
        jobs.MapPut("/{id:guid}/priority", SetPriorityAsync);
        jobs.MapGet("/{id:guid}/events", EventsAsync);
        jobs.MapGet("/{id:guid}/artifacts", ArtifactsAsync);
        jobs.MapGet("/{id:guid}/artifacts/{artifactId}", ArtifactAsync);
        routes.MapGet("/api/webhooks/secret", WebhookSecret).WithTags("Jobs").RequireAuthorization(GatewayAuth.DeveloperPolicy).RequireRateLimiting(AuthApi.PerKeyPolicy);
        routes.MapGet("/api/models", ListModels).WithTags("Models").RequireAuthorization(GatewayAuth.DeveloperPolicy).RequireRateLimiting(AuthApi.PerKeyPolicy);
        return routes;
    }

    /// <summary>Accepts a job: 202 with its view and location, or 400 naming the field and rule.</summary>
    public static async Task<Results<Accepted<JobView>, ValidationProblem, ProblemHttpResult>> SubmitAsync(GenerateRequest request, IGrainFactory grains, ClaimsPrincipal user)
    {
        try
        {
            var view = await new PoolClient(grains).SubmitAsync(request.ToSpec(Requester(user)));
            return TypedResults.Accepted($"/api/jobs/{view.Id}", view);
        }
        catch (JobValidationException ex)
        {
            // The pool names a task's parameter as JobSpec holds it (input.parameters.NAME), and a data-processing job's
            // as its input's field (input.NAME); the request says parameters.NAME for both.
            var field = !ex.Field.StartsWith("input.", StringComparison.Ordinal) ? ex.Field
                : request.Kind == JobKind.DataProcessing && ex.Field == "input.operation" ? "model"
                : request.Kind == JobKind.DataProcessing && !ex.Field.StartsWith("input.parameters.", StringComparison.Ordinal) ? $"parameters.{ex.Field["input.".Length..]}"
                : ex.Field["input.".Length..];
            return ApiErrors.Invalid(field, ex.Rule);
        }
        catch (PoolAI.Admin.PoolMaintenanceException ex)
        {
            return ApiErrors.Maintenance(ex);
        }
    }

    /// <summary>
    /// The caller's jobs, newest first: <c>status</c>, <c>model</c>, <c>kind</c> filters; <c>limit</c> (1–100, default
    /// 20) and <c>before</c> (the previous page's <c>next_before</c>, <c>TIME~JOB_ID</c>, or any ISO 8601 time: jobs
    /// created before it) for paging; admins may pass <c>requester</c>.
    /// </summary>
    public static async Task<Results<Ok<JobList>, ValidationProblem, ProblemHttpResult>> ListAsync(
        IGrainFactory grains, ClaimsPrincipal user, string? status, string? model, string? kind, string? limit, string? before, string? requester)
    {
        JobStatus? statusFilter = null;
        if (status is not null)
        {
            if (!Enum.TryParse<JobStatus>(status, ignoreCase: true, out var parsed) || !Enum.IsDefined(parsed))
                return ApiErrors.Invalid("status", $"must be one of {string.Join(", ", Enum.GetNames<JobStatus>())}; was '{status}'");
            statusFilter = parsed;
        }

        JobKind? kindFilter = null;
        if (kind is not null)
        {
            if (!JobKind.TryParse(kind, out var parsed, out var error))
                return ApiErrors.Invalid("kind", error!);
            kindFilter = parsed;
        }

        var pageSize = 20;
        if (limit is not null && (!int.TryParse(limit, out pageSize) || pageSize is < 1 or > JobQuery.MaxLimit))
            return ApiErrors.Invalid("limit", $"must be an integer between 1 and {JobQuery.MaxLimit}; was '{limit}'");
        DateTimeOffset? cursor = null;
        Guid? cursorJob = null;
        if (before is not null)
        {
            var tilde = before.IndexOf('~', StringComparison.Ordinal);
            // A cursor pasted into a URL unencoded has its offset's '+' turned into a space ("…:06.29 00:00"); put it back.
            var time = OffsetAfterSpace().Replace(tilde < 0 ? before : before[..tilde], "+$1");
            var lastJob = Guid.Empty;
            if (!DateTimeOffset.TryParse(time, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal, out var parsed)
                || (tilde >= 0 && !Guid.TryParse(before[(tilde + 1)..], out lastJob)))
                return ApiErrors.Invalid("before", $"must be a date and time (ISO 8601) or a page's next_before (TIME~JOB_ID); was '{before}'");
            cursor = parsed;
            cursorJob = tilde < 0 ? null : lastJob;
        }

        var owner = Requester(user);
        if (requester is not null && string.IsNullOrWhiteSpace(requester))
            return ApiErrors.Invalid("requester", "must be a requester (key id) when given");
        if (requester is not null && requester != owner)
        {
            if (!user.IsInRole(ApiRoles.Admin))
                return ApiErrors.Problem(StatusCodes.Status403Forbidden, "Forbidden", "only admins may list another requester's jobs");
            owner = requester;
        }

        var (jobs, next, nextJob) = await new PoolClient(grains).ListAsync(owner, new JobQuery(statusFilter, model, kindFilter, cursor, pageSize, cursorJob));
        return TypedResults.Ok(new JobList(jobs, next is { } nextTime ? $"{nextTime.UtcDateTime.ToString("O", System.Globalization.CultureInfo.InvariantCulture)}~{nextJob}" : null));
    }

    /// <summary>The job, or 404 (also for another developer's job).</summary>
    public static async Task<Results<Ok<JobView>, ProblemHttpResult>> GetAsync(Guid id, IGrainFactory grains, ClaimsPrincipal user) =>
        await VisibleAsync(id, grains, user) is { } view ? TypedResults.Ok(view) : NoSuchJob(id);

    /// <summary>Cancels the job if it has not finished (409 once it has); 404 for an unknown id.</summary>
    public static async Task<Results<Ok<JobView>, ProblemHttpResult>> CancelAsync(Guid id, IGrainFactory grains, ClaimsPrincipal user)
    {
        if (await VisibleAsync(id, grains, user) is null)
            return NoSuchJob(id);
        try
        {
            return TypedResults.Ok(await new PoolClient(grains).CancelAsync(id, "cancelled over HTTP"));
        }
        catch (JobFinishedException ex)
        {
            return Finished(ex);
        }
    }

    /// <summary>Changes the job's priority in any non-final state (409 once it has finished).</summary>
    public static async Task<Results<Ok<JobView>, ValidationProblem, ProblemHttpResult>> SetPriorityAsync(Guid id, PriorityRequest request, IGrainFactory grains, ClaimsPrincipal user)
    {
        if (await VisibleAsync(id, grains, user) is null)
            return NoSuchJob(id);
        if (request.Priority is not { } priority)
            return ApiErrors.Invalid("priority", "is required");
        try
        {
            return TypedResults.Ok(await new PoolClient(grains).SetPriorityAsync(id, priority));
        }
        catch (JobFinishedException ex)
        {
            return Finished(ex);
        }
        catch (JobValidationException ex)
        {
            return ApiErrors.Invalid(ex.Field, ex.Rule);
        }
    }

    /// <summary>
    /// The job's events as server-sent events until it is final: <c>event: state</c> first (status, message, output so
    /// far), then <c>state</c> on a status change, <c>output</c> with new text (offset, text, progress) and <c>progress</c>
    /// with the job's progress (step, total, unit, message, metrics); the last is a <c>state</c> event with the final status.
    /// </summary>
    public static async Task<IResult> EventsAsync(Guid id, HttpContext http, IGrainFactory grains, ClaimsPrincipal user, IOptions<JsonOptions> json)
    {
        if (await VisibleAsync(id, grains, user) is null)
            return NoSuchJob(id);
        http.Response.ContentType = "text/event-stream";
        http.Response.Headers.CacheControl = "no-cache";
        var cancelled = http.RequestAborted;
        JobStatus? last = null;
        try
        {
            await foreach (var e in new PoolClient(grains).WatchAsync(id, cancelled))
            {
                var name = e.Status != last || e.Status.IsFinal() ? "state" : e.Text.Length > 0 ? "output" : "progress";
                last = e.Status;
                var data = JsonSerializer.Serialize(new { status = e.Status, message = e.Message, offset = e.Offset, text = e.Text, progress = e.Progress }, json.Value.SerializerOptions);
                await http.Response.WriteAsync($"event: {name}\ndata: {data}\n\n", cancelled);
                await http.Response.Body.FlushAsync(cancelled);
            }
        }
        catch (OperationCanceledException) when (cancelled.IsCancellationRequested)
        {
            // The client went away; the job goes on.
        }

        return TypedResults.Empty;
    }

    /// <summary>The files the job produced (checkpoints included), in the order they were stored; 404 for an unknown job.</summary>
    public static async Task<Results<Ok<IReadOnlyList<ArtifactRef>>, ProblemHttpResult>> ArtifactsAsync(Guid id, IGrainFactory grains, ClaimsPrincipal user) =>
        await VisibleAsync(id, grains, user) is { } view ? TypedResults.Ok(view.Artifacts ?? []) : NoSuchJob(id);

    /// <summary>
    /// One of the job's artifacts, streamed with its media type and name (<c>Content-Disposition: attachment</c>): 404 when
    /// the job is not the caller's or did not produce it, 410 when it was deleted after the job's artifact retention.
    /// </summary>
    public static async Task<IResult> ArtifactAsync(Guid id, string artifactId, HttpContext http, IGrainFactory grains, ClaimsPrincipal user)
    {
        if (await VisibleAsync(id, grains, user) is not { } view)
            return NoSuchJob(id);
        if ((view.Artifacts ?? []).FirstOrDefault(a => string.Equals(a.Id, artifactId, StringComparison.OrdinalIgnoreCase)) is not { } artifact)
            return ApiErrors.NotFound($"job {id} has no artifact {artifactId}; GET /api/jobs/{id}/artifacts lists its artifacts", "artifact_id");
        var pool = new PoolClient(grains);
        if (await pool.GetArtifactAsync(artifact.Id) is null)
            return ApiErrors.Problem(StatusCodes.Status410Gone, "The artifact was deleted", $"artifact {artifact.Id} of job {id} was deleted after the pool's artifact retention");
        return TypedResults.Stream(
            stream => pool.DownloadArtifactAsync(artifact, stream, http.RequestAborted),
            artifact.MediaType,
            artifact.Name);
    }

    /// <summary>
    /// The caller's webhook signing secret: deliveries of its jobs' webhooks carry
    /// <c>PoolAI-Signature: t=…,v1=hex(HMAC-SHA256(secret, "t.body"))</c> (see <see cref="WebhookSignature"/>).
    /// </summary>
    public static Ok<WebhookSecretResponse> WebhookSecret(ClaimsPrincipal user, WebhookSigningKey key) =>
        TypedResults.Ok(new WebhookSecretResponse(WebhookSignature.SecretFor(key.Value, Requester(user)), WebhookSignature.Header));

    /// <summary>The models in the registry.</summary>
    public static Ok<IEnumerable<ModelSummary>> ListModels(ModelRegistry registry) =>
        TypedResults.Ok(registry.Models.Select(m => new ModelSummary(m.Id, m.Kind, m.Description, m.Weights?.Parameters ?? 0, m.Architecture?.BlockSize ?? 0, m.Training?.ValLoss)));

    /// <summary>The requester a caller's jobs are filed under: its key id.</summary>
    public static string Requester(ClaimsPrincipal user) => user.FindFirstValue("sub") ?? "anonymous";

    private static async Task<JobView?> VisibleAsync(Guid id, IGrainFactory grains, ClaimsPrincipal user)
    {
        try
        {
            var view = await new PoolClient(grains).GetAsync(id);
            return user.IsInRole(ApiRoles.Admin) || view.Spec.Requester == Requester(user) ? view : null;
        }
        catch (KeyNotFoundException)
        {
            return null;
        }
    }

    private static ProblemHttpResult NoSuchJob(Guid id) => ApiErrors.NotFound($"no job with id {id}", "id");

    private static ProblemHttpResult Finished(JobFinishedException ex) => ApiErrors.Problem(StatusCodes.Status409Conflict, "The job has finished", ex.Message);

    /// <summary>A space before a trailing <c>hh:mm</c>: an ISO 8601 offset whose <c>+</c> a URL turned into a space.</summary>
    [System.Text.RegularExpressions.GeneratedRegex(@" (\d{2}:\d{2})$")]
    private static partial System.Text.RegularExpressions.Regex OffsetAfterSpace();
}

/// <summary>The pool's webhook key as the gateway read it at start (configured, or generated in <c>$POOLAI_HOME</c>).</summary>
/// <param name="Value">The key bytes.</param>
public sealed record WebhookSigningKey(byte[] Value);

/// <summary>A requester's webhook secret.</summary>
/// <param name="Secret">HMAC-SHA256 key, as the hex text to use.</param>
/// <param name="Header">The header that carries the signature.</param>
public sealed record WebhookSecretResponse(string Secret, string Header);

/// <summary>Body of <c>PUT /api/jobs/{id}/priority</c>.</summary>
public sealed record PriorityRequest
{
    /// <summary>−10 to 10; higher runs first.</summary>
    [PoolAI.Gateway.Binding.NumberRule(PoolAI.Gateway.Binding.RequestNumber.Priority)]
    public int? Priority { get; init; }
}

/// <summary>A page of jobs, newest first.</summary>
/// <param name="Items">The jobs.</param>
/// <param name="NextBefore">Pass as <c>before</c> for the next page (<c>TIME~JOB_ID</c>: the last job's creation time and id); null on the last.</param>
public sealed record JobList(IReadOnlyList<JobView> Items, string? NextBefore);

/// <summary>A model as <c>GET /api/models</c> lists it.</summary>
/// <param name="Id">Model id.</param>
/// <param name="Kind"><c>text</c> or <c>code</c>.</param>
/// <param name="Description">One line.</param>
/// <param name="Parameters">Number of weights.</param>
/// <param name="ContextLength">Block size, tokens.</param>
/// <param name="ValidationLoss">Held-out loss at the end of training, nats/token.</param>
public sealed record ModelSummary(string Id, string Kind, string Description, long Parameters, int ContextLength, double? ValidationLoss);
