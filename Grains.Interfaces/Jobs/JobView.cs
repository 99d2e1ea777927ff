namespace PoolAI.Jobs;

/// <summary>Everything a requester may see of a job.</summary>
/// <param name="Id">The job id (the job grain's key).</param>
/// <param name="Spec">The job as submitted.</param>
/// <param name="Status">Where the job is in its life.</param>
/// <param name="StatusMessage">Why it is where it is, e.g. "no worker serves model X" while queued, or the error when failed.</param>
/// <param name="CreatedAt">When it was accepted.</param>
/// <param name="UpdatedAt">When its status last changed.</param>
/// <param name="Attempts">Every try at running it, in order.</param>
/// <param name="Progress">How far the current attempt has got (the last report of a finished job); null before any report.</param>
/// <param name="Result">The result once <see cref="JobStatus.Succeeded"/>; what it had produced, marked
/// <see cref="JobResult.Partial"/>, once cancelled or expired after producing something.</param>
/// <param name="WebhookAttempts">Deliveries of the job's webhook so far, in order (empty without a webhook).</param>
/// <param name="Artifacts">Files the job produced, in the order they were stored (checkpoints included); empty for none.</param>
/// <param name="Checkpoint">Its last checkpoint, which a new attempt resumes from; null for none.</param>
[GenerateSerializer, Immutable, Alias("poolai.JobView")]
public sealed record JobView(
    [property: Id(0)] Guid Id,
    [property: Id(1)] JobSpec Spec,
    [property: Id(2)] JobStatus Status,
    [property: Id(3)] string? StatusMessage,
    [property: Id(4)] DateTimeOffset CreatedAt,
    [property: Id(5)] DateTimeOffset UpdatedAt,
    [property: Id(6)] IReadOnlyList<JobAttempt> Attempts,
    [property: Id(10)] JobProgress? Progress,
    [property: Id(8)] JobResult? Result,
    [property: Id(9)] IReadOnlyList<WebhookAttempt>? WebhookAttempts = null,
    [property: Id(11)] IReadOnlyList<ArtifactRef>? Artifacts = null,
    [property: Id(12)] JobCheckpoint? Checkpoint = null);
