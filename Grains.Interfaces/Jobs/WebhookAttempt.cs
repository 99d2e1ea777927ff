namespace PoolAI.Jobs;

/// <summary>One try at delivering a job's webhook.</summary>
/// <param name="Number">1 for the first.</param>
/// <param name="At">When it was sent.</param>
/// <param name="StatusCode">The receiver's HTTP status; null when no answer came (refused, timed out).</param>
/// <param name="Error">Why it failed, when it did.</param>
/// <param name="Delivered">The receiver answered 2xx: no more tries.</param>
[GenerateSerializer, Immutable, Alias("poolai.WebhookAttempt")]
public sealed record WebhookAttempt(
    [property: Id(0)] int Number,
    [property: Id(1)] DateTimeOffset At,
    [property: Id(2)] int? StatusCode,
    [property: Id(3)] string? Error,
    [property: Id(4)] bool Delivered);

/// <summary>Delivers one job's webhook (keyed by the job id), with retries, after the job is final.</summary>
[Alias("poolai.IWebhookGrain")]
public interface IWebhookGrain : IGrainWithGuidKey
{
    /// <summary>Starts delivering <paramref name="body"/> to <paramref name="url"/>, signed for <paramref name="requester"/>; returns at once. Idempotent.</summary>
    [Alias("Start")]
    Task StartAsync(string url, string requester, string body);
}
