using PoolAI.Jobs;

namespace PoolAI.Jobs;

/// <summary>A job grain's persisted state (state name <c>job</c> in the <c>pool</c> storage).</summary>
[GenerateSerializer, Alias("poolai.JobState")]
public sealed class JobState
{
    /// <summary>The job as submitted; null until submitted.</summary>
    [Id(0)] public JobSpec? Spec { get; set; }

    /// <summary>Where the job is.</summary>
    [Id(1)] public JobStatus Status { get; set; }

    /// <summary>Why it is there.</summary>
    [Id(2)] public string? StatusMessage { get; set; }

    /// <summary>When it was accepted.</summary>
    [Id(3)] public DateTimeOffset CreatedAt { get; set; }

    /// <summary>When its status last changed.</summary>
    [Id(4)] public DateTimeOffset UpdatedAt { get; set; }

    /// <summary>Every attempt, in order.</summary>
    [Id(5)] public List<JobAttempt> Attempts { get; set; } = [];

    /// <summary>The result once succeeded.</summary>
    [Id(6)] public JobResult? Result { get; set; }

    /// <summary>When the job expires if not finished.</summary>
    [Id(7)] public DateTimeOffset ExpiresAt { get; set; }

    /// <summary>Attempts allowed before the job fails.</summary>
    [Id(8)] public int MaxAttempts { get; set; } = 3;

    /// <summary>The final job's consequences are done: its worker credited, its verification started or its check reported.</summary>
    [Id(9)] public bool Settled { get; set; }

    /// <summary>Tries at delivering the job's webhook, in order.</summary>
    [Id(10)] public List<WebhookAttempt> WebhookAttempts { get; set; } = [];

    /// <summary>The key of the job's queue (<see cref="JobQueueKeys"/>); null for a job stored before queues were per
    /// kind, whose queue is keyed by its model alone.</summary>
    [Id(11)] public string? QueueKey { get; set; }

    /// <summary>The job's latest checkpoint, which its next attempt resumes from; null for none.</summary>
    [Id(12)] public JobCheckpoint? Checkpoint { get; set; }

    /// <summary>Files the job produced, in the order they were stored (checkpoints included).</summary>
    [Id(13)] public List<ArtifactRef> Artifacts { get; set; } = [];

    /// <summary>The latest progress report of its current (or last) attempt; stored with the job's next write.</summary>
    [Id(14)] public JobProgress? Progress { get; set; }
}
