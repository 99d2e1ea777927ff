using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using PoolAI.Admin;
using PoolAI.Client.Sdk;
using PoolAI.Gateway.Auth;
using PoolAI.Gateway.Jobs;
using PoolAI.Rewards;
using PoolAI.Workers;
using PoolAI.Gateway.Binding;

namespace PoolAI.Gateway.Admin;

/// <summary>Body of <c>PUT /api/admin/settings</c>.</summary>
public sealed record SettingsRequest
{
    /// <summary>Stop accepting new jobs.</summary>
    public bool? MaintenanceMode { get; init; }

    /// <summary>Why; required when maintenance mode is on (at most 500 characters).</summary>
    public string? MaintenanceReason { get; init; }
}

/// <summary>Body of the worker status actions.</summary>
public sealed record WorkerActionRequest
{
    /// <summary>Why; shown to the miner and to admins. Required to pause or ban.</summary>
    public string? Reason { get; init; }
}

/// <summary>Body of <c>POST /api/admin/rewards/{worker}/corrections</c>.</summary>
public sealed record CorrectionRequest
{
    /// <summary>The credit entry to correct.</summary>
    [NumberRule(RequestNumber.LedgerSequence)]
    public long? Sequence { get; init; }

    /// <summary>Credits to take back; absent for all that is left of the entry.</summary>
    [NumberRule(RequestNumber.CreditAmount)]
    public decimal? Amount { get; init; }

    /// <summary>Why.</summary>
    public string? Reason { get; init; }
}

/// <summary>
/// The admin API under <c>/api/admin</c> (role admin): pool settings with maintenance mode, workers (list, read, pause,
/// resume, ban) and reward corrections; and reading rewards and the leaderboard for any signed-in role.
/// </summary>
/// <summary>Body of <c>POST /api/admin/enrollments</c>.</summary>
public sealed record EnrollmentRequest
{
    /// <summary>The trusted silo's name (letters, digits, '.', '-'; at most 64).</summary>
    public string? Name { get; init; }

    /// <summary>How long the token is good, seconds (at most 7 days; default 1 hour).</summary>
    public int? TtlSeconds { get; init; }
}

/// <summary>Body of <c>POST /api/silos/enroll</c>.</summary>
public sealed record EnrollRequest
{
    /// <summary>The one-time enrollment token (<c>pet_…</c>).</summary>
    public string? Token { get; init; }

    /// <summary>The silo's certificate signing request, PEM.</summary>
    public string? Request { get; init; }
}

public static class AdminApi
{
    /// <summary>Maps the admin and rewards endpoints.</summary>
    public static IEndpointRouteBuilder MapAdminApi(this IEndpointRouteBuilder routes)
    {
        var admin = routes.MapGroup("/api/admin").WithTags("Admin").RequireAuthorization(GatewayAuth.AdminPolicy).RequireRateLimiting(AuthApi.PerKeyPolicy);
        admin.MapGet("/settings", async (IGrainFactory grains) => TypedResults.Ok(await grains.GetGrain<IPoolSettingsGrain>(IPoolSettingsGrain.Key).GetAsync()));
        admin.MapPut("/settings", SetSettingsAsync);
        admin.MapGet("/workers", ListWorkersAsync);
        admin.MapGet("/workers/{id}", GetWorkerAsync);
        admin.MapPost("/workers/{id}/pause", (string id, WorkerActionRequest request, IGrainFactory grains) => SetWorkerAsync(id, WorkerStatus.Paused, request, grains));
        admin.MapPost("/workers/{id}/resume", (string id, IGrainFactory grains) => SetWorkerAsync(id, WorkerStatus.Active, new WorkerActionRequest(), grains));
        admin.MapPost("/workers/{id}/ban", (string id, WorkerActionRequest request, IGrainFactory grains) => SetWorkerAsync(id, WorkerStatus.Banned, request, grains));
        admin.MapPost("/rewards/{worker}/corrections", CorrectAsync);
        admin.MapPost("/enrollments", CreateEnrollmentAsync);
        // A silo that enrolls has no credential yet: the token is its credential.
        routes.MapPost("/api/silos/enroll", EnrollAsync).WithTags("Admin").AllowAnonymous().RequireRateLimiting(AuthApi.PerKeyPolicy);

        var rewards = routes.MapGroup("/api").WithTags("Rewards").RequireAuthorization().RequireRateLimiting(AuthApi.PerKeyPolicy);
        rewards.MapGet("/rewards/{worker}", RewardsAsync);
        rewards.MapGet("/leaderboard", LeaderboardAsync);
        return routes;
    }

    /// <summary>Replaces the pool settings; maintenance mode needs a reason.</summary>
    public static async Task<Results<Ok<PoolSettings>, ValidationProblem>> SetSettingsAsync(SettingsRequest request, IGrainFactory grains, ClaimsPrincipal user)
    {
        if (request.MaintenanceMode is not { } maintenance)
            return ApiErrors.Invalid("maintenance_mode", "is required (true or false)");
        if (maintenance && string.IsNullOrWhiteSpace(request.MaintenanceReason))
            return ApiErrors.Invalid("maintenance_reason", "is required when maintenance_mode is true");
        if (request.MaintenanceReason is { Length: > 500 })
            return ApiErrors.Invalid("maintenance_reason", $"must be at most 500 characters, was {request.MaintenanceReason.Length}");
        var settings = await grains.GetGrain<IPoolSettingsGrain>(IPoolSettingsGrain.Key).SetAsync(new PoolSettings(maintenance, request.MaintenanceReason), JobsApi.Requester(user));
        return TypedResults.Ok(settings);
    }

    /// <summary>Every worker that registered, with its current view.</summary>
    public static async Task<Ok<IReadOnlyList<WorkerView>>> ListWorkersAsync(IGrainFactory grains)
    {
        var known = await grains.GetGrain<IWorkerStatusBoardGrain>(IWorkerStatusBoardGrain.Key).GetAllAsync();
        var views = await Task.WhenAll(known.Keys.Order(StringComparer.Ordinal).Select(id => grains.GetGrain<IWorkerGrain>(id).GetAsync()));
        return TypedResults.Ok<IReadOnlyList<WorkerView>>(views);
    }

    /// <summary>One worker, or 404 when none registered with that id.</summary>
    public static async Task<Results<Ok<WorkerView>, ProblemHttpResult>> GetWorkerAsync(string id, IGrainFactory grains) =>
        await RegisteredAsync(id, grains) is { } view ? TypedResults.Ok(view) : NoSuchWorker(id);

    /// <summary>Pauses, resumes or bans a worker; it takes (or stops taking) new work within a second.</summary>
    public static async Task<Results<Ok<WorkerView>, ValidationProblem, ProblemHttpResult>> SetWorkerAsync(string id, WorkerStatus status, WorkerActionRequest request, IGrainFactory grains)
    {
        if (await RegisteredAsync(id, grains) is null)
            return NoSuchWorker(id);
        if (status != WorkerStatus.Active && string.IsNullOrWhiteSpace(request.Reason))
            return ApiErrors.Invalid("reason", $"is required to {(status == WorkerStatus.Banned ? "ban" : "pause")} a worker");
        return TypedResults.Ok(await grains.GetGrain<IWorkerGrain>(id).SetStatusAsync(status, request.Reason?.Trim()));
    }

    /// <summary>Takes back (part of) a credit with a new negative entry; 404 for a worker that never registered.</summary>
    public static async Task<Results<Ok<RewardEntry>, ValidationProblem, ProblemHttpResult>> CorrectAsync(string worker, CorrectionRequest request, IGrainFactory grains)
    {
        if (string.IsNullOrWhiteSpace(worker))
            return ApiErrors.Invalid("worker", "must be a worker id");
        if (request.Sequence is not { } sequence)
            return ApiErrors.Invalid("sequence", "is required: the credit entry to correct");
        if (string.IsNullOrWhiteSpace(request.Reason))
            return ApiErrors.Invalid("reason", "is required");
        try
        {
            return TypedResults.Ok(await new PoolClient(grains).CorrectRewardAsync(worker, sequence, request.Reason, request.Amount));
        }
        catch (ArgumentException ex)
        {
            return ApiErrors.Invalid(ex.ParamName ?? "body", ex.Message.Split(" (Parameter", 2)[0]);
        }
        catch (KeyNotFoundException)
        {
            return NoSuchWorker(worker.Trim());
        }
    }

    /// <summary>A worker's reward summary (all zero for a registered worker that has earned nothing); 404 for a worker that never registered.</summary>
    public static async Task<Results<Ok<RewardSummary>, ValidationProblem, ProblemHttpResult>> RewardsAsync(string worker, IGrainFactory grains)
    {
        if (string.IsNullOrWhiteSpace(worker))
            return ApiErrors.Invalid("worker", "must be a worker id");
        try
        {
            return TypedResults.Ok(await new PoolClient(grains).GetRewardsAsync(worker));
        }
        catch (KeyNotFoundException)
        {
            return NoSuchWorker(worker.Trim());
        }
    }

    /// <summary>The top workers: <c>period</c> day, week (default), month or all; <c>top</c> 1–1000 (default 10).</summary>
    public static async Task<Results<Ok<IReadOnlyList<LeaderboardRow>>, ValidationProblem>> LeaderboardAsync(IGrainFactory grains, string? period, string? top)
    {
        var chosen = LeaderboardPeriod.Week;
        if (period is not null && (!Enum.TryParse(period, ignoreCase: true, out chosen) || !Enum.IsDefined(chosen)))
            return ApiErrors.Invalid("period", $"must be day, week, month or all; was '{period}'");
        var rows = 10;
        if (top is not null && (!int.TryParse(top, out rows) || rows is < 1 or > 1000))
            return ApiErrors.Invalid("top", $"must be an integer between 1 and 1000; was '{top}'");
        return TypedResults.Ok(await new PoolClient(grains).GetLeaderboardAsync(chosen, rows));
    }

    /// <summary>The worker, or null when none registered with that id (see <see cref="PoolClient.GetWorkerAsync"/>).</summary>
    private static async Task<WorkerView?> RegisteredAsync(string id, IGrainFactory grains)
    {
        try
        {
            return await new PoolClient(grains).GetWorkerAsync(id);
        }
        catch (KeyNotFoundException)
        {
            return null;
        }
    }

    private static ProblemHttpResult NoSuchWorker(string id) => ApiErrors.NotFound($"no worker with id '{id}' has registered", "id");

    private static async Task<IResult> CreateEnrollmentAsync(EnrollmentRequest request, IGrainFactory grains)
    {
        if (request.TtlSeconds is < 1 or > 7 * 24 * 3600)
            return ApiErrors.Invalid("ttl_seconds", $"must be between 1 and {7 * 24 * 3600}; was {request.TtlSeconds}");
        var (id, token) = PoolAI.Auth.EnrollmentTokens.Generate();
        try
        {
            var view = await grains.GetGrain<PoolAI.Auth.ISiloEnrollmentGrain>(id).CreateAsync(PoolAI.Auth.EnrollmentTokens.Hash(token), request.Name ?? string.Empty,
                DateTimeOffset.UtcNow + TimeSpan.FromSeconds(request.TtlSeconds ?? 3600));
            return TypedResults.Created($"/api/admin/enrollments/{id}", new { token, view.Id, view.Name, view.ExpiresAt });
        }
        catch (PoolAI.Jobs.JobValidationException ex)
        {
            return ApiErrors.Invalid(ex.Field, ex.Rule);
        }
    }

    private static async Task<IResult> EnrollAsync(EnrollRequest request, IGrainFactory grains)
    {
        if (PoolAI.Auth.EnrollmentTokens.IdOf(request.Token) is not { } id)
            return ApiErrors.Invalid("token", "must be an enrollment token (pet_ followed by 12 hex digits, '_' and the secret)");
        try
        {
            return TypedResults.Ok(await grains.GetGrain<PoolAI.Auth.ISiloEnrollmentGrain>(id).RedeemAsync(PoolAI.Auth.EnrollmentTokens.Hash(request.Token!), request.Request ?? string.Empty));
        }
        catch (PoolAI.Jobs.JobValidationException ex)
        {
            return ApiErrors.Invalid(ex.Field, ex.Rule);
        }
    }
}
