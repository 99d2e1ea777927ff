namespace PoolAI.Jobs;

/// <summary>
/// The job life cycle as a rule: <c>Queued → Assigned → Running → Succeeded | Failed | Cancelled | Expired</c>,
/// with <c>Assigned</c> and <c>Running</c> able to fall back to <c>Queued</c> when an attempt is lost
/// and the job may try again. Final states never change. The job grain calls these methods and then
/// persists; nothing else writes a job's status.
/// </summary>
public static class JobStateMachine
{
    /// <summary>True when a job may move from <paramref name="from"/> to <paramref name="to"/>.</summary>
    public static bool CanMove(JobStatus from, JobStatus to) => (from, to) switch
    {
        (_, _) when from.IsFinal() => false,
        (JobStatus.Queued, JobStatus.Assigned) => true,
        (JobStatus.Assigned, JobStatus.Running) => true,
        (JobStatus.Assigned or JobStatus.Running, JobStatus.Queued) => true,
        (JobStatus.Running, JobStatus.Succeeded) => true,
        (JobStatus.Assigned, JobStatus.Succeeded) => true,
        (_, JobStatus.Failed or JobStatus.Cancelled or JobStatus.Expired) => true,
        _ => false,
    };

    /// <summary>Accepts a new job: status <c>Queued</c>, timestamps, expiry and queue set.</summary>
    /// <exception cref="InvalidOperationException">The state already holds a job.</exception>
    public static void Accept(JobState state, JobSpec spec, DateTimeOffset now, TimeSpan timeToLive, int maxAttempts)
    {
        if (state.Spec is not null)
            throw new InvalidOperationException("the job was already submitted");
        state.Spec = spec;
        state.QueueKey = JobQueueKeys.For(spec.Kind, spec.Model);
        state.Status = JobStatus.Queued;
        state.CreatedAt = state.UpdatedAt = now;
        state.ExpiresAt = now + (spec.TimeToLive ?? timeToLive);
        state.MaxAttempts = maxAttempts;
    }

    /// <summary>
    /// Serves a just-accepted job from the result cache: <c>Queued → Succeeded</c> with no attempt, the result marked
    /// <see cref="JobResult.CachedFrom"/> the job that produced it. Settlement then pays no one, as no worker ran it.
    /// </summary>
    /// <exception cref="InvalidJobTransitionException">The job is not queued or has attempts.</exception>
    public static void ServeFromCache(JobState state, CachedResult cached, DateTimeOffset now)
    {
        if (state.Status != JobStatus.Queued || state.Attempts.Count > 0)
            throw new InvalidJobTransitionException(state.Status, JobStatus.Succeeded);
        state.Status = JobStatus.Succeeded;
        state.StatusMessage = $"served from the result cache: job {cached.JobId} ran the same model checkpoint, settings and seed";
        state.UpdatedAt = now;
        state.Result = cached.Result with { CachedFrom = cached.JobId };
    }

    /// <summary>Starts a new attempt: <c>Queued → Assigned</c>. Returns the attempt number.</summary>
    /// <exception cref="InvalidJobTransitionException">The job is not queued.</exception>
    public static int Assign(JobState state, DateTimeOffset now)
    {
        Move(state, JobStatus.Assigned, now, message: null);
        state.Progress = null;
        var number = state.Attempts.Count + 1;
        state.Attempts.Add(new JobAttempt(number, null, now));
        return number;
    }

    /// <summary>The attempt produced its first output on <paramref name="silo"/>: <c>Assigned → Running</c>.</summary>
    /// <exception cref="InvalidJobTransitionException">The job is not assigned.</exception>
    public static void Run(JobState state, string? silo, DateTimeOffset now)
    {
        Move(state, JobStatus.Running, now, message: null);
        if (silo is not null && state.Attempts.Count > 0)
            state.Attempts[^1] = state.Attempts[^1] with { Silo = silo };
    }

    /// <summary>Records the result: <c>Assigned | Running → Succeeded</c>.</summary>
    /// <exception cref="InvalidJobTransitionException">The job is not assigned or running.</exception>
    public static void Succeed(JobState state, JobResult result, DateTimeOffset now)
    {
        Move(state, JobStatus.Succeeded, now, message: null);
        state.Result = result;
        EndAttempt(state, now, "succeeded", result.Silo);
    }

    /// <summary>
    /// The current attempt failed with <paramref name="reason"/>. When <paramref name="retryable"/> and
    /// attempts remain, the job goes back to <c>Queued</c>; otherwise it ends <c>Failed</c> with every
    /// attempt's reason. Returns the new status.
    /// </summary>
    public static JobStatus FailAttempt(JobState state, string reason, bool retryable, DateTimeOffset now)
    {
        EndAttempt(state, now, reason, silo: null);
        if (retryable && CountedAttempts(state) < state.MaxAttempts)
        {
            Move(state, JobStatus.Queued, now, $"attempt {state.Attempts.Count} failed: {reason}; waiting to retry");
            return JobStatus.Queued;
        }

        var reasons = string.Join("; ", state.Attempts.Select(a => $"attempt {a.Number}: {a.Outcome}"));
        Move(state, JobStatus.Failed, now, retryable ? $"failed after {state.Attempts.Count} attempts: {reasons}" : reason);
        return JobStatus.Failed;
    }

    /// <summary>
    /// The worker running the current attempt gave it back unfinished because it is shutting down gracefully: the job
    /// goes back to <c>Queued</c>, and the attempt is recorded but does not count towards <see cref="JobState.MaxAttempts"/>.
    /// </summary>
    /// <exception cref="InvalidJobTransitionException">The job is not assigned or running.</exception>
    public static void HandBack(JobState state, string reason, DateTimeOffset now)
    {
        Move(state, JobStatus.Queued, now, $"attempt {state.Attempts.Count} {reason}; waiting for another worker");
        EndAttempt(state, now, reason, silo: null);
        state.Attempts[^1] = state.Attempts[^1] with { HandedBack = true };
    }

    /// <summary>Records the silo the current attempt was placed on, without changing the status; an attempt keeps its first silo.</summary>
    public static void Locate(JobState state, string silo, string? worker = null, string? device = null)
    {
        if (state.Attempts.Count > 0 && state.Attempts[^1] is { EndedAt: null, Silo: null } attempt)
            state.Attempts[^1] = attempt with { Silo = silo, Worker = worker, Device = device };
    }

    /// <summary>Attempts that count towards <see cref="JobState.MaxAttempts"/>: all but those handed back by a worker shutting down.</summary>
    public static int CountedAttempts(JobState state) => state.Attempts.Count(a => !a.HandedBack);

    /// <summary>
    /// Cancels the job, keeping <paramref name="partial"/> (what its running attempt had produced, marked
    /// <see cref="JobResult.Partial"/>) as its result. Returns false when it had already finished (then nothing changes).
    /// </summary>
    public static bool Cancel(JobState state, string reason, DateTimeOffset now, JobResult? partial = null) =>
        End(state, JobStatus.Cancelled, $"cancelled: {reason}", now, partial);

    /// <summary>Expires the job, keeping <paramref name="partial"/> as for <see cref="Cancel"/>. Returns false when it had already finished.</summary>
    public static bool Expire(JobState state, DateTimeOffset now, JobResult? partial = null) =>
        End(state, JobStatus.Expired, $"expired: time to live ended at {state.ExpiresAt:O} before the job finished", now, partial);

    /// <summary>
    /// Records <paramref name="checkpoint"/> as the job's latest (its artifact joins the job's artifacts) while the
    /// attempt that wrote it is current. Returns false, changing nothing, when it is not.
    /// </summary>
    public static bool Checkpoint(JobState state, JobCheckpoint checkpoint)
    {
        if (!IsCurrent(state, checkpoint.Attempt))
            return false;
        state.Checkpoint = checkpoint;
        AddArtifact(state, checkpoint.Attempt, checkpoint.Artifact);
        return true;
    }

    /// <summary>Adds <paramref name="artifact"/> to the job's artifacts (once) while attempt <paramref name="attempt"/> is current; false, changing nothing, when it is not.</summary>
    public static bool AddArtifact(JobState state, int attempt, ArtifactRef artifact)
    {
        if (!IsCurrent(state, attempt))
            return false;
        if (!state.Artifacts.Any(a => a.Id == artifact.Id && a.Name == artifact.Name))
            state.Artifacts.Add(artifact);
        return true;
    }

    /// <summary>True while attempt <paramref name="attempt"/> is the job's running one.</summary>
    public static bool IsCurrent(JobState state, int attempt) =>
        state.Attempts.Count == attempt && state.Status is JobStatus.Assigned or JobStatus.Running;

    private static bool End(JobState state, JobStatus status, string message, DateTimeOffset now, JobResult? partial)
    {
        if (state.Status.IsFinal())
            return false;
        var running = state.Status is JobStatus.Assigned or JobStatus.Running;
        Move(state, status, now, message);
        if (running)
        {
            EndAttempt(state, now, message, silo: null);
            state.Result = partial is null ? null : partial with { Partial = true };
        }

        return true;
    }

    private static void Move(JobState state, JobStatus to, DateTimeOffset now, string? message)
    {
        if (!CanMove(state.Status, to))
            throw new InvalidJobTransitionException(state.Status, to);
        state.Status = to;
        state.StatusMessage = message;
        state.UpdatedAt = now;
    }

    private static void EndAttempt(JobState state, DateTimeOffset now, string outcome, string? silo)
    {
        if (state.Attempts.Count == 0 || state.Attempts[^1].EndedAt is not null)
            return;
        var attempt = state.Attempts[^1];
        state.Attempts[^1] = attempt with { EndedAt = now, Outcome = outcome, Silo = silo ?? attempt.Silo };
    }
}

/// <summary>A status change the job life cycle does not allow.</summary>
public sealed class InvalidJobTransitionException(JobStatus from, JobStatus to)
    : InvalidOperationException($"a job cannot move from {from} to {to}")
{
    /// <summary>Status before.</summary>
    public JobStatus From { get; } = from;

    /// <summary>Status asked for.</summary>
    public JobStatus To { get; } = to;
}
