using System.Text.Json;
using System.Text.Json.Serialization;
using PoolAI.Gateway.Binding;

namespace PoolAI.Gateway.OpenAi;

/// <summary>The sampling fields that completions and chat completions share. Unknown fields are refused, as OpenAI does.</summary>
public abstract record OpenAiSamplingRequest
{
    /// <summary>Model id.</summary>
    public string? Model { get; init; }

    /// <summary>Tokens to generate (for chat, the deprecated name of <c>max_completion_tokens</c>).</summary>
    [NumberRule(RequestNumber.MaxTokens)]
    public int? MaxTokens { get; init; }

    /// <summary>Sampling temperature (default 1).</summary>
    [NumberRule(RequestNumber.Temperature)]
    public float? Temperature { get; init; }

    /// <summary>Nucleus mass (default 1).</summary>
    [NumberRule(RequestNumber.TopP)]
    public float? TopP { get; init; }

    /// <summary>Choices; only 1.</summary>
    [NumberRule(RequestNumber.Choices)]
    public int? N { get; init; }

    /// <summary>Stream server-sent events.</summary>
    public bool? Stream { get; init; }

    /// <summary>Stream options.</summary>
    public StreamOptions? StreamOptions { get; init; }

    /// <summary>A string or up to 4 strings.</summary>
    public JsonElement Stop { get; init; }

    /// <summary>Sampler seed (default 0).</summary>
    [NumberRule(RequestNumber.Seed)]
    public long? Seed { get; init; }

    /// <summary>End-user id; accepted.</summary>
    public string? User { get; init; }

    /// <summary>Must be 0 or absent.</summary>
    [NumberRule(RequestNumber.Penalty)]
    public float? FrequencyPenalty { get; init; }

    /// <summary>Must be 0 or absent.</summary>
    [NumberRule(RequestNumber.Penalty)]
    public float? PresencePenalty { get; init; }

    /// <summary>PoolAI's extension: <c>false</c> runs the request on a worker even when the result of an identical request (same model, prompt, settings and seed) is in the result cache; absent or <c>true</c> may serve it from there.</summary>
    public bool? Cache { get; init; }
}

/// <summary>Body of <c>POST /v1/completions</c> (OpenAI's legacy completions; <c>max_tokens</c> defaults to 16).</summary>
public sealed record CompletionRequest : OpenAiSamplingRequest
{
    /// <summary>A string, or an array holding one string.</summary>
    public JsonElement Prompt { get; init; }
}

/// <summary>Body of <c>POST /v1/chat/completions</c>.</summary>
public sealed record ChatCompletionRequest : OpenAiSamplingRequest
{
    /// <summary>The conversation.</summary>
    public List<ChatMessage>? Messages { get; init; }

    /// <summary>Tokens to generate (default 256).</summary>
    [NumberRule(RequestNumber.MaxTokens)]
    public int? MaxCompletionTokens { get; init; }
}

/// <summary>One chat message.</summary>
public sealed record ChatMessage
{
    /// <summary><c>system</c>, <c>developer</c>, <c>user</c> or <c>assistant</c>.</summary>
    public string? Role { get; init; }

    /// <summary>A string, or an array of <c>{"type":"text","text":…}</c> parts.</summary>
    public JsonElement Content { get; init; }

    /// <summary>Participant name; accepted.</summary>
    public string? Name { get; init; }
}

/// <summary>Streaming options.</summary>
public sealed record StreamOptions
{
    /// <summary>Send a last chunk with token usage.</summary>
    public bool? IncludeUsage { get; init; }
}

/// <summary>Body of <c>POST /v1/images/generations</c>: only the model is read (no image model exists yet).</summary>
public sealed record ImageGenerationRequest
{
    /// <summary>Model id.</summary>
    public string? Model { get; init; }

    /// <summary>What to draw.</summary>
    public string? Prompt { get; init; }

    /// <summary>Images.</summary>
    [NumberRule(RequestNumber.Images)]
    public int? N { get; init; }

    /// <summary>Size, e.g. 512x512.</summary>
    public string? Size { get; init; }

    /// <summary>url or b64_json.</summary>
    public string? ResponseFormat { get; init; }

    /// <summary>End-user id.</summary>
    public string? User { get; init; }
}
