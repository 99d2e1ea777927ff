namespace PoolAI.Jobs;

/// <summary>
/// One job, keyed by its id. Owns the job's state machine, persists every status change before
/// reporting it, and pushes partial output to watchers.
/// </summary>
[Alias("poolai.IJobGrain")]
public interface IJobGrain : IGrainWithGuidKey
{
    /// <summary>Validates, persists and enqueues the job. Idempotent: submitting the same id again returns the existing view.</summary>
    /// <exception cref="JobValidationException">The spec breaks a rule; nothing is stored.</exception>
    [Alias("Submit")]
    Task<JobView> SubmitAsync(JobSpec spec);

    /// <summary>
    /// Changes the job's priority in any non-final state: a waiting job moves in its queue at once; a running one keeps
    /// the new priority if it has to wait again. Returns the view after.
    /// </summary>
    /// <exception cref="JobValidationException">Priority outside −10…10.</exception>
    /// <exception cref="JobFinishedException">The job has finished; nothing changes.</exception>
    /// <exception cref="KeyNotFoundException">No job with this id was submitted.</exception>
    [Alias("SetPriority")]
    Task<JobView> SetPriorityAsync(int priority);

    /// <summary>Records a try at delivering the job's webhook (called by its <see cref="IWebhookGrain"/>); shown in the view.</summary>
    [Alias("RecordWebhookAttempt")]
    Task RecordWebhookAttemptAsync(WebhookAttempt attempt);

    /// <summary>The job as it is now.</summary>
    /// <exception cref="KeyNotFoundException">No job with this id was submitted.</exception>
    [Alias("Get"), AlwaysInterleave]
    Task<JobView> GetAsync();

    /// <summary>
    /// Cancels the job in any non-final state; a running attempt is stopped (a generation within one token), and what it
    /// had produced is kept as the job's partial result. Returns the view after.
    /// </summary>
    /// <exception cref="JobFinishedException">The job has finished; nothing changes.</exception>
    /// <exception cref="KeyNotFoundException">No job with this id was submitted.</exception>
    [Alias("Cancel")]
    Task<JobView> CancelAsync(string reason);

    /// <summary>Completes when the job reaches a final state, or after <paramref name="timeout"/>; returns the view either way.</summary>
    [Alias("WaitForCompletion"), AlwaysInterleave, ResponseTimeout("01:00:00")]
    Task<JobView> WaitForCompletionAsync(TimeSpan timeout);

    /// <summary>Subscribes <paramref name="observer"/> to updates and returns the current view with all output so far.</summary>
    [Alias("Watch")]
    Task<JobWatchStart> WatchAsync(IJobObserver observer);

    /// <summary>The job's streamed output: a text job's result text once it has one, else what its current (or last) attempt streamed while this activation ran.</summary>
    /// <exception cref="KeyNotFoundException">No job with this id was submitted.</exception>
    [Alias("GetOutput"), AlwaysInterleave]
    Task<string> GetOutputAsync();

    /// <summary>Stops sending updates to <paramref name="observer"/>.</summary>
    [Alias("Unwatch")]
    Task UnwatchAsync(IJobObserver observer);

    /// <summary>
    /// Called by the job's queue: start an attempt now on the silo of <paramref name="placement"/>, where the queue
    /// reserved a slot; the attempt records the silo's worker and device. Returns where the job runs now:
    /// <paramref name="placement"/> when it started, the placement of its current attempt when it was already running
    /// (the queue's record of the start was lost in a crash, so the queue counts that slot again), or null when it will
    /// not run (final, or not queued).
    /// </summary>
    [Alias("StartAt")]
    Task<JobPlacement?> StartAsync(JobPlacement placement);

    /// <summary>
    /// Called by the job's queue: brings the job up to date and returns its view. Activating it lets a job whose attempt
    /// died with its activation wait again; a job whose time to live has ended expires and leaves the queue.
    /// </summary>
    /// <exception cref="KeyNotFoundException">No job with this id was submitted.</exception>
    [Alias("Wake")]
    Task<JobView> WakeAsync();

    /// <summary>
    /// Called by the job's queue for a job that has waited a while: if it still waits and nobody waits on or watches
    /// it, its activation is deactivated (the queue holds its entry and activates it again to start it).
    /// </summary>
    [Alias("Park"), OneWay]
    Task ParkAsync();
}

/// <summary>What a new watcher gets: the view and the output produced before it subscribed.</summary>
/// <param name="View">The job now.</param>
/// <param name="Output">Streamed text so far (a text job's result text once finished).</param>
[GenerateSerializer, Immutable, Alias("poolai.JobWatchStart")]
public sealed record JobWatchStart([property: Id(0)] JobView View, [property: Id(1)] string Output);
