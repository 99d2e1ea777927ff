using System.Text.Json;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Orleans.Dashboard;
using PoolAI.Gateway;
using PoolAI.Gateway.Admin;
using PoolAI.Gateway.Auth;
using PoolAI.Gateway.Binding;
using PoolAI.Gateway.Jobs;
using PoolAI.Gateway.OpenAi;
using PoolAI.Gateway.S3;
using Scalar.AspNetCore;
using PoolAI.Libraries;
using PoolAI.Models;
using PoolAI.Silo.Hosting;

try
{
    var builder = WebApplication.CreateBuilder(args);
    // Generated signing keys (and the embedded pool's database) live in the pool home: the owner's alone.
    PoolHome.Secure();
    builder.Services.ConfigureHttpJsonOptions(o =>
    {
        o.SerializerOptions.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
        // Enums by name only: a number (an enum's position) would be accepted silently for a field documented by its names.
        o.SerializerOptions.Converters.Add(new System.Text.Json.Serialization.JsonStringEnumConverter(namingPolicy: null, allowIntegerValues: false));
        // A string where a number belongs, or a field the API does not have, is an error, not a guess.
        o.SerializerOptions.NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.Strict;
        o.SerializerOptions.UnmappedMemberHandling = System.Text.Json.Serialization.JsonUnmappedMemberHandling.Disallow;
    });
    builder.Services.Configure<Microsoft.AspNetCore.Routing.RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
    builder.Services.AddProblemDetails(options => options.CustomizeProblemDetails = context =>
    {
        // Every problem (401, 403, 404, 415, 429 included) says what happened and carries OpenAI's error object.
        var problem = context.ProblemDetails;
        problem.Detail ??= problem.Title;
        if (!problem.Extensions.ContainsKey("error"))
        {
            problem.Extensions["error"] = new Dictionary<string, object?>
            {
                ["message"] = problem.Detail, ["type"] = (problem.Status ?? 500) >= 500 ? "server_error" : "invalid_request_error", ["param"] = null, ["code"] = null,
            };
        }
    });
    builder.Services.AddOpenApi(o => o.AddNumberRules().AddJobSchemas());
    builder.Services.AddGatewayAuth(builder.Configuration);
    builder.Services.AddGatewayRateLimits(builder.Configuration);
    // The S3 API's signing and limits; its object store (IS3ObjectStore, over volumes) is registered on its own.
    builder.Services.AddS3Api(builder.Configuration);
    builder.Services.AddSingleton<PoolAI.Gateway.S3.IS3ObjectStore, PoolAI.Gateway.S3.VolumeObjectStore>();
    builder.Services.TryAddSingleton(TimeProvider.System);
    builder.Services.AddSingleton(new WebhookSigningKey(
        (builder.Configuration.GetSection(PoolAI.Webhooks.WebhookOptions.Section).Get<PoolAI.Webhooks.WebhookOptions>() ?? new PoolAI.Webhooks.WebhookOptions()).Key()));
    var limits = builder.Configuration.GetSection(GatewayLimits.Section).Get<GatewayLimits>() ?? new GatewayLimits();
    builder.WebHost.ConfigureKestrel(kestrel => kestrel.Limits.MaxRequestBodySize = limits.MaxRequestBytes);
    builder.Services.AddSingleton(_ => new ModelRegistry(ModelRegistry.DirectoryOrDefault(builder.Configuration[ModelRegistry.DirectoryKey])));
    // The open-miner channel: gRPC over HTTP/2 (with TLS on the HTTPS endpoint, or h2c on an endpoint of its own).
    var minerChannel = builder.Configuration.GetSection(PoolAI.Gateway.Miners.MinerChannelOptions.Section).Get<PoolAI.Gateway.Miners.MinerChannelOptions>() ?? new PoolAI.Gateway.Miners.MinerChannelOptions();
    if (minerChannel.MaxMessageBytes is < 1024 or > 64 * 1024 * 1024)
        throw new PoolConfigurationException($"{PoolAI.Gateway.Miners.MinerChannelOptions.Section}:MaxMessageBytes", $"must be between 1024 and 67108864; was {minerChannel.MaxMessageBytes}");
    if (minerChannel.HeartbeatInterval < TimeSpan.FromMilliseconds(100) || minerChannel.HeartbeatInterval > TimeSpan.FromMinutes(1))
        throw new PoolConfigurationException($"{PoolAI.Gateway.Miners.MinerChannelOptions.Section}:HeartbeatInterval", $"must be between 00:00:00.100 and 00:01:00; was {minerChannel.HeartbeatInterval}");
    builder.Services.AddSingleton(minerChannel);
    builder.Services.AddSingleton<PoolAI.Gateway.Miners.MinerConnectionLimiter>();
    builder.Services.AddGrpc(o =>
    {
        o.MaxReceiveMessageSize = minerChannel.MaxMessageBytes;
        o.EnableDetailedErrors = false;
        // Without this gRPC maps a catch-all POST {service}/{method} route, which turns the REST API's 415s into 404s.
        o.IgnoreUnknownServices = true;
    });

    var hostsPool = builder.Configuration[PoolAI.Client.Sdk.PoolConnection.GatewaysKey] is not { Length: > 0 };
    // One pool per home database: a gateway that would host a second pool on the same home is refused, naming the first's port.
    using var homeLock = hostsPool && PoolRoles.Parse(builder.Configuration[PoolRoles.Key]).HostsState() && PoolHomeLock.UsesHomeDatabase(builder.Configuration)
        ? PoolHomeLock.TakeOrRefuse(PoolHome.Directory, builder.Configuration.GetValue($"{PoolClusterOptions.Section}:GatewayPort", new PoolClusterOptions().GatewayPort))
        : null;
    if (hostsPool)
    {
        // No cluster configured: the gateway hosts the embedded all-in-one pool itself.
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { [PoolRoles.Key] = builder.Configuration[PoolRoles.Key] ?? "all-in-one" });
        if (PoolRoles.Parse(builder.Configuration[PoolRoles.Key]).ServesModels())
            TorchLibraries.EnsureLoaded();
        builder.UseOrleans(silo => silo.UsePoolClustering(builder.Configuration).AddPoolAI(builder.Configuration).AddDashboard());
    }
    else
    {
        // The same clustering as the SDK's: the pool's service and cluster ids, or the silo refuses the connection.
        builder.UseOrleansClient(client => PoolAI.Client.Sdk.PoolConnection.UseConfiguredGateways(client, builder.Configuration).UsePoolTls(builder.Configuration));
    }

    var app = builder.Build();
    // Bad options stop the process here, in one line (see the catch below), before the host would log a failed start.
    app.Services.GetService<Microsoft.Extensions.Options.IStartupValidator>()?.Validate();
    app.UseRequestErrors();
    app.Use((context, next) =>
    {
        // A 503 (maintenance) tells clients when to come back.
        context.Response.OnStarting(() =>
        {
            if (context.Response.StatusCode == StatusCodes.Status503ServiceUnavailable && !context.Response.Headers.ContainsKey("Retry-After"))
                context.Response.Headers.RetryAfter = ApiErrors.MaintenanceRetryAfter.ToString(System.Globalization.CultureInfo.InvariantCulture);
            return Task.CompletedTask;
        });
        return next(context);
    });
    app.UseStatusCodePages();
    if (hostsPool)
        app.UseDashboardSignInRedirect();
    app.UseAuthentication();
    app.UseAuthorization();
    app.UseRateLimiter();
    app.UseJsonBodyTextCheck();
    app.MapAuthApi();
    app.MapJobsApi();
    app.MapOpenAiApi();
    app.MapAdminApi();
    app.MapLibrariesApi();
    PoolAI.Gateway.Volumes.VolumesApi.MapVolumesApi(app);
    app.MapS3Api();
    // Any valid key may open the stream; the service itself refuses keys that are not miner keys, saying so.
    app.MapGrpcService<PoolAI.Gateway.Miners.MinerChannelService>().RequireAuthorization();
    app.MapOpenApi().AllowAnonymous();
    app.MapScalarApiReference().AllowAnonymous();
    if (hostsPool)
    {
        app.MapDashboardSignIn();
        // The dashboard's own routes are its page's plumbing, not the pool's API: keep them out of the OpenAPI document.
        app.MapOrleansDashboard(DashboardSignIn.DashboardPath).RequireAuthorization(GatewayAuth.AdminPolicy).ExcludeFromDescription();
    }
    app.MapGet("/healthz", () => TypedResults.Ok("ok")).AllowAnonymous();
    await app.RunAsync();
    return 0;
}
catch (Exception ex) when (PoolConfigurationException.From(ex) is not null || ex is LibraryRepairException)
{
    Console.Error.WriteLine($"poolai gateway: {PoolConfigurationException.From(ex)?.Message ?? ex.Message}");
    return 2;
}
