using System.Security.Claims;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;
using PoolAI.Client.Sdk;
using PoolAI.Gateway.Auth;
using PoolAI.Jobs;
using PoolAI.Models;

namespace PoolAI.Gateway.OpenAi;

/// <summary>
/// The OpenAI-compatible API under <c>/v1</c>, so OpenAI's SDKs work unchanged: models, completions and chat
/// completions (with <c>stream: true</c> as server-sent events in OpenAI's chunk format). Each request is a pool job of
/// the caller (requester = the key id). The models are character-level: one token is one character, so usage counts
/// characters. A chat's prompt is its messages' contents in order, each followed by a blank line, for the model to
/// continue (the way speeches follow each other in its training text).
/// </summary>
public static class OpenAiApi
{
    /// <summary>Longest a non-streamed request waits for its job.</summary>
    public static readonly TimeSpan RequestTimeout = TimeSpan.FromMinutes(10);

    /// <summary>OpenAI's default <c>max_tokens</c> of a completion.</summary>
    public const int DefaultCompletionTokens = 16;

    /// <summary>Default <c>max_completion_tokens</c> of a chat completion.</summary>
    public const int DefaultChatTokens = 256;

    /// <summary>Maps <c>/v1/models</c>, <c>/v1/completions</c>, <c>/v1/chat/completions</c>, <c>/v1/images/generations</c>, for developers.</summary>
    public static IEndpointRouteBuilder MapOpenAiApi(this IEndpointRouteBuilder routes)
    {
        var v1 = routes.MapGroup("/v1").WithTags("OpenAI-compatible").RequireAuthorization(GatewayAuth.DeveloperPolicy).RequireRateLimiting(AuthApi.PerKeyPolicy);
        v1.MapGet("/models", Models);
        v1.MapGet("/models/{id}", Model);
        v1.MapPost("/completions", CompletionsAsync);
        v1.MapPost("/chat/completions", ChatCompletionsAsync);
        v1.MapPost("/images/generations", Images);
        return routes;
    }

    /// <summary>The registry's models as an OpenAI model list.</summary>
    public static Ok<ModelList> Models(ModelRegistry registry) =>
        TypedResults.Ok(new ModelList("list", registry.Models.Select(m => Describe(m)).ToList()));

    /// <summary>One model, or 404.</summary>
    public static Results<Ok<OpenAiModel>, ProblemHttpResult> Model(string id, ModelRegistry registry) =>
        registry.Contains(id) ? TypedResults.Ok(Describe(registry.Get(id))) : ApiErrors.NotFound($"The model '{id}' does not exist", "model", "model_not_found");

    /// <summary><c>POST /v1/images/generations</c>: no image model exists yet, so 404 naming the model asked for.</summary>
    public static ProblemHttpResult Images(ImageGenerationRequest request, ModelRegistry registry)
    {
        var model = string.IsNullOrWhiteSpace(request.Model) ? "(none given)" : request.Model;
        return ApiErrors.NotFound(
            $"The model '{model}' is not an image model: this pool has no image model yet (models: {string.Join(", ", registry.Ids)})",
            "model", "model_not_found");
    }

    /// <summary><c>POST /v1/completions</c>.</summary>
    public static async Task<IResult> CompletionsAsync(CompletionRequest request, HttpContext http, IGrainFactory grains, ModelRegistry registry, IOptions<JsonOptions> json)
    {
        if (Prompt(request.Prompt) is not { } prompt)
            return ApiErrors.Invalid("prompt", "is required: a string, or an array of one string");
        if (Common(request, registry, out var stop) is { } invalid)
            return invalid;
        var settings = new GenerationSettings(prompt, request.MaxTokens ?? DefaultCompletionTokens, request.Temperature ?? 1f, 0, request.TopP ?? 1f, request.Seed ?? 0, stop);
        return await RunAsync(http, grains, json.Value.SerializerOptions, request.Model!, settings, request.Stream == true, request.StreamOptions?.IncludeUsage == true, chat: false, noCache: request.Cache == false);
    }

    /// <summary><c>POST /v1/chat/completions</c>.</summary>
    public static async Task<IResult> ChatCompletionsAsync(ChatCompletionRequest request, HttpContext http, IGrainFactory grains, ModelRegistry registry, IOptions<JsonOptions> json)
    {
        if (request.Messages is not { Count: > 0 } messages)
            return ApiErrors.Invalid("messages", "is required: at least one message");
        var prompt = new StringBuilder();
        for (var i = 0; i < messages.Count; i++)
        {
            if (messages[i] is null)
                return ApiErrors.Invalid($"messages[{i}]", "must be an object");
            if (messages[i].Role is not ("system" or "developer" or "user" or "assistant"))
                return ApiErrors.Invalid($"messages[{i}].role", $"must be system, developer, user or assistant; was '{messages[i].Role}'");
            if (Content(messages[i].Content) is not { } content)
                return ApiErrors.Invalid($"messages[{i}].content", "must be a string or an array of text parts");
            prompt.Append(content).Append("\n\n");
        }

        if (request.MaxTokens is not null && request.MaxCompletionTokens is not null)
            return ApiErrors.Invalid("max_tokens", "give max_tokens or max_completion_tokens, not both");
        if (Common(request, registry, out var stop) is { } invalid)
            return invalid;
        var settings = new GenerationSettings(prompt.ToString(), request.MaxCompletionTokens ?? request.MaxTokens ?? DefaultChatTokens, request.Temperature ?? 1f, 0, request.TopP ?? 1f, request.Seed ?? 0, stop);
        return await RunAsync(http, grains, json.Value.SerializerOptions, request.Model!, settings, request.Stream == true, request.StreamOptions?.IncludeUsage == true, chat: true, noCache: request.Cache == false);
    }

    private static IResult? Common(OpenAiSamplingRequest request, ModelRegistry registry, out string[]? stop)
    {
        // n, frequency_penalty and presence_penalty (only 1, only 0) are checked while the body is read (RequestNumbers).
        var (model, stopElement) = (request.Model, request.Stop);
        stop = null;
        if (string.IsNullOrWhiteSpace(model))
            return ApiErrors.Invalid("model", "is required");
        if (!registry.Contains(model))
            return ApiErrors.NotFound($"The model '{model}' does not exist (models: {string.Join(", ", registry.Ids)})", "model", "model_not_found");
        switch (stopElement.ValueKind)
        {
            case JsonValueKind.Undefined or JsonValueKind.Null:
                break;
            case JsonValueKind.String:
                stop = [stopElement.GetString()!];
                break;
            case JsonValueKind.Array when stopElement.GetArrayLength() <= 4 && stopElement.EnumerateArray().All(s => s.ValueKind == JsonValueKind.String):
                stop = stopElement.EnumerateArray().Select(s => s.GetString()!).ToArray();
                break;
            default:
                return ApiErrors.Invalid("stop", "must be a string or an array of up to 4 strings");
        }

        return null;
    }

    private static async Task<IResult> RunAsync(HttpContext http, IGrainFactory grains, JsonSerializerOptions json, string model, GenerationSettings settings, bool stream, bool includeUsage, bool chat, bool noCache)
    {
        var pool = new PoolClient(grains);
        var requester = http.User.FindFirstValue("sub") ?? "anonymous";
        JobView submitted;
        try
        {
            submitted = await pool.SubmitAsync(new JobSpec(JobKind.TextGeneration, model, settings, 0, requester, NoCache: noCache));
        }
        catch (JobValidationException ex)
        {
            return ApiErrors.Invalid(ex.Field, ex.Rule); // the job fields carry OpenAI's names (max_tokens, top_p, …)
        }
        catch (PoolAI.Admin.PoolMaintenanceException ex)
        {
            return ApiErrors.Maintenance(ex);
        }

        var id = (chat ? "chatcmpl-" : "cmpl-") + submitted.Id.ToString("N");
        var created = submitted.CreatedAt.ToUnixTimeSeconds();
        var cancelled = http.RequestAborted;
        if (!stream)
        {
            JobView done;
            try
            {
                done = await pool.WaitAsync(submitted.Id, RequestTimeout, cancelled);
            }
            catch (OperationCanceledException) when (cancelled.IsCancellationRequested)
            {
                await CancelQuietlyAsync(pool, submitted.Id, "the HTTP client went away");
                return TypedResults.Empty;
            }

            if (done.Status != JobStatus.Succeeded || done.Result?.Text is not { } result)
            {
                if (!done.Status.IsFinal())
                {
                    await CancelQuietlyAsync(pool, submitted.Id, "timed out waiting over HTTP");
                    return ApiErrors.Problem(StatusCodes.Status504GatewayTimeout, "The job did not finish in time", $"job {submitted.Id} was cancelled after {RequestTimeout.TotalMinutes:0} minutes: {done.StatusMessage}");
                }

                return done.Status == JobStatus.Cancelled
                    ? ApiErrors.Problem(StatusCodes.Status409Conflict, "The job was cancelled", $"job {submitted.Id}: {done.StatusMessage}")
                    : ApiErrors.Problem(StatusCodes.Status502BadGateway, "The job did not succeed", $"job {submitted.Id} ended {done.Status}: {done.StatusMessage}");
            }

            var usage = Usage(settings.Prompt.Length, result.TokensGenerated);
            http.Response.Headers["X-PoolAI-Job"] = submitted.Id.ToString();
            return chat
                ? TypedResults.Ok(new { id, @object = "chat.completion", created, model, choices = new[] { new { index = 0, message = new { role = "assistant", content = result.Text, refusal = (string?)null }, logprobs = (object?)null, finish_reason = result.FinishReason } }, usage, system_fingerprint = (string?)null })
                : TypedResults.Ok(new { id, @object = "text_completion", created, model, choices = new[] { new { text = result.Text, index = 0, logprobs = (object?)null, finish_reason = result.FinishReason } }, usage, system_fingerprint = (string?)null });
        }

        http.Response.ContentType = "text/event-stream";
        http.Response.Headers.CacheControl = "no-cache";
        http.Response.Headers["X-PoolAI-Job"] = submitted.Id.ToString();
        async Task SendAsync(object chunk)
        {
            await http.Response.WriteAsync("data: " + JsonSerializer.Serialize(chunk, json) + "\n\n", cancelled);
            await http.Response.Body.FlushAsync(cancelled);
        }

        try
        {
            if (chat)
                await SendAsync(new { id, @object = "chat.completion.chunk", created, model, choices = new[] { new { index = 0, delta = new { role = "assistant", content = "" }, logprobs = (object?)null, finish_reason = (string?)null } } });
            await foreach (var text in pool.StreamTextAsync(submitted.Id, cancelled))
            {
                await SendAsync(chat
                    ? new { id, @object = "chat.completion.chunk", created, model, choices = new[] { new { index = 0, delta = new { role = (string?)null, content = text }, logprobs = (object?)null, finish_reason = (string?)null } } }
                    : new { id, @object = "text_completion", created, model, choices = new[] { new { text, index = 0, logprobs = (object?)null, finish_reason = (string?)null } } });
            }

            var done = await pool.GetAsync(submitted.Id);
            var finish = done.Result?.Text?.FinishReason ?? "error";
            await SendAsync(chat
                ? new { id, @object = "chat.completion.chunk", created, model, choices = new[] { new { index = 0, delta = new { role = (string?)null, content = (string?)null }, logprobs = (object?)null, finish_reason = (string?)finish } } }
                : new { id, @object = "text_completion", created, model, choices = new[] { new { text = "", index = 0, logprobs = (object?)null, finish_reason = (string?)finish } } });
            if (includeUsage)
                await SendAsync(new { id, @object = chat ? "chat.completion.chunk" : "text_completion", created, model, choices = Array.Empty<object>(), usage = Usage(settings.Prompt.Length, done.Result?.Text?.TokensGenerated ?? 0) });
            await http.Response.WriteAsync("data: [DONE]\n\n", cancelled);
        }
        catch (OperationCanceledException) when (cancelled.IsCancellationRequested)
        {
            await CancelQuietlyAsync(pool, submitted.Id, "the HTTP client went away");
        }

        return TypedResults.Empty;
    }

    /// <summary>Cancels a job whose client went away; one that finished meanwhile is left as it is.</summary>
    private static async Task CancelQuietlyAsync(PoolClient pool, Guid job, string reason)
    {
        try
        {
            await pool.CancelAsync(job, reason);
        }
        catch (JobFinishedException)
        {
            // It finished first: nothing to stop.
        }
    }

    private static object Usage(int promptTokens, int completionTokens) =>
        new { prompt_tokens = promptTokens, completion_tokens = completionTokens, total_tokens = promptTokens + completionTokens };

    private static string? Prompt(JsonElement prompt) => prompt.ValueKind switch
    {
        JsonValueKind.String => prompt.GetString(),
        JsonValueKind.Array when prompt.GetArrayLength() == 1 && prompt[0].ValueKind == JsonValueKind.String => prompt[0].GetString(),
        _ => null,
    };

    private static string? Content(JsonElement content)
    {
        if (content.ValueKind == JsonValueKind.String)
            return content.GetString();
        if (content.ValueKind != JsonValueKind.Array)
            return null;
        var text = new StringBuilder();
        foreach (var part in content.EnumerateArray())
        {
            if (part.ValueKind != JsonValueKind.Object || !part.TryGetProperty("type", out var type) || type.GetString() != "text"
                || !part.TryGetProperty("text", out var value) || value.ValueKind != JsonValueKind.String)
                return null;
            text.Append(value.GetString());
        }

        return text.ToString();
    }

    private static OpenAiModel Describe(CheckpointConfig model) =>
        new(model.Id, "model", model.Training is { } training ? training.FinishedAt.ToUnixTimeSeconds() : 0, "poolai");
}

/// <summary>OpenAI's model list.</summary>
public sealed record ModelList(string Object, IReadOnlyList<OpenAiModel> Data);

/// <summary>OpenAI's model object.</summary>
/// <param name="Id">Model id.</param>
/// <param name="Object">Always <c>model</c>.</param>
/// <param name="Created">Unix time its training finished (0 when unknown).</param>
/// <param name="OwnedBy">Always <c>poolai</c>.</param>
public sealed record OpenAiModel(string Id, string Object, long Created, string OwnedBy);
