using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Placement;
using PoolAI.Execution;
using PoolAI.Placement;

namespace PoolAI.Jobs;

/// <summary>
/// One job, on a coordinator silo: its life cycle and nothing kind-specific. Every status change goes through
/// <see cref="JobStateMachine"/> and is persisted before it is reported; the job's kind (<see cref="JobKindDescriptor"/>)
/// checks its input and counts its work; attempts run through <see cref="JobAttemptRunner"/> (leases:
/// <see cref="JobLease"/>); consequences of a final job through <see cref="JobSettlement"/>. A lost activation
/// (coordinator crash) is detected when the job is next activated, which its queue does at start.
/// <para>
/// Immovable for the activation rebalancer: a running attempt waits on the executor's answer outside any request, so
/// migrating the activation would cut the attempt short.
/// </para>
/// </summary>
[CoordinatorFilter]
[Immovable(ImmovableKind.Rebalancer)]
public sealed partial class JobGrain(
    [PersistentState("job", PoolKeys.Storage)] IPersistentState<JobState> state,
    JobKindRegistry kinds,
    ResultCaching cache,
    JobSettlement settlement,
    WorkerAvailability availability,
    IOptions<JobOptions> options,
    Admin.PoolSettingsCache settings,
    Webhooks.WebhookTargets webhooks,
    TimeProvider time,
    ILogger<JobGrain> logger) : Grain, IJobGrain, IExecutionSink, IJobHost
{
    private readonly JobCompletion _completion = new(time);
    private JobRecord? _record;
    private JobAttemptRunner? _runner;
    private JobSettler? _settler;
    private bool _parked;

    JobRecord IJobHost.Record => Record;

    private JobRecord Record => _record ??= new(this.GetPrimaryKey(), state, GrainFactory);

    private Guid Id => Record.Id;

    private JobState Job => state.State;

    private JobAttemptRunner Attempts => _runner ??= new(this, GrainFactory, this.AsReference<IExecutionSink>(), kinds, cache, availability, options.Value, time, logger);

    private JobSettler Settler => _settler ??= new(this, settlement, logger);

    /// <inheritdoc />
    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (!Record.Exists)
            return;
        Record.ReportToIndex();
        if (Job.Status.IsFinal())
        {
            _completion.Finished();
            if (!Job.Settled)
                Settler.Schedule(TimeSpan.Zero); // the activation that finished it died before settling
            return;
        }

        if (time.GetUtcNow() >= Job.ExpiresAt)
        {
            await ExpireAsync();
            return;
        }

        if (Job.Status is JobStatus.Assigned or JobStatus.Running)
            await Attempts.RecoverLostAttemptAsync();
        else
            Admitted(await Record.Queue.EnqueueAsync(Record.Entry()));
    }

    /// <inheritdoc />
    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken) =>
        _settler?.StopAsync(cancellationToken) ?? Task.CompletedTask; // a settlement in progress finishes; one cut short is repeated

    /// <inheritdoc />
    public async Task<JobView> SubmitAsync(JobSpec spec)
    {
        if (Record.Exists)
            return Record.View();
        JobSpecRules.Validate(spec);
        if (spec.Trust is { } trust && !Enum.IsDefined(trust))
            throw new JobValidationException("trust", $"must be 'open' or 'trusted'; was {(int)trust}");
        spec = spec with { Trust = spec.Trust ?? options.Value.DefaultTrust }; // the decision is recorded with the job
        var kind = kinds.Get(spec.Kind);
        kind.Validate(spec);
        await webhooks.CheckAsync(spec.WebhookUrl);
        settings.EnsureAcceptingJobs();
        var cached = await cache.LookUpAsync(Id, spec, kind);
        JobStateMachine.Accept(Job, spec, time.GetUtcNow(), options.Value.DefaultTimeToLive, options.Value.MaxAttempts);
        if (cached is not null)
        {
            // No queue, no worker: the job is done as accepted. Settlement credits no one (there is no attempt) and
            // starts no verification, but still delivers the webhook.
            JobStateMachine.ServeFromCache(Job, cached, time.GetUtcNow());
            await Record.SaveAsync();
            _completion.Finished();
            LogServedFromCache(Id, spec.Model, cached.JobId);
            await SettleAsync();
            return Record.View();
        }

        await Record.SaveAsync();
        var admission = await Record.Queue.AdmitAsync(Record.Entry());
        LogAccepted(Id, spec.Kind, spec.Model);
        if (admission.StartOn is { } placement)
            Attempts.Begin(placement); // a free slot was taken for it: no start call from the queue
        else
            Admitted(admission.BlockedReason);
        return Record.View();
    }

    /// <summary>Takes the queue's answer to an enqueue: why the job cannot run anywhere now, or null.</summary>
    private void Admitted(string? blockedReason)
    {
        if (blockedReason is not null && Job.Status == JobStatus.Queued)
            Job.StatusMessage = blockedReason;
    }

    /// <inheritdoc />
    public async Task<JobView> WakeAsync()
    {
        Record.Require();
        if (!Job.Status.IsFinal() && time.GetUtcNow() >= Job.ExpiresAt)
            await ExpireAsync();
        else if (Job.Status == JobStatus.Queued)
            Admitted(await Record.Queue.EnqueueAsync(Record.Entry())); // the queue may count it as running (a lost requeue): it waits again
        return Record.View();
    }

    /// <inheritdoc />
    public Task ParkAsync()
    {
        if (!Record.Exists || (Job.Status == JobStatus.Queued && _completion.Waiting == 0 && Record.Watchers.Count == 0 && (_settler?.Idle ?? true)))
        {
            _parked = true;
            this.DeactivateOnIdle();
        }

        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task<JobView> GetAsync() => Task.FromResult(Record.View());

    /// <inheritdoc />
    public async Task RecordWebhookAttemptAsync(WebhookAttempt attempt)
    {
        Record.Require();
        if (Job.WebhookAttempts.Any(a => a.Number == attempt.Number))
            return;
        Job.WebhookAttempts.Add(attempt);
        await Record.SaveAsync();
    }

    /// <inheritdoc />
    public async Task<JobView> SetPriorityAsync(int priority)
    {
        Record.Require();
        JobSpecRules.ValidatePriority(priority);
        RequireUnfinished("its priority cannot change");
        if (Job.Spec!.Priority == priority)
            return Record.View();
        Job.Spec = Job.Spec with { Priority = priority };
        await Record.SaveAsync();
        if (Job.Status == JobStatus.Queued)
            await Record.Queue.ReprioritizeAsync(Id, priority);
        return Record.View();
    }

    /// <inheritdoc />
    public async Task<JobView> CancelAsync(string reason)
    {
        Record.Require();
        RequireUnfinished("it cannot be cancelled");
        await Attempts.CancelAsync(string.IsNullOrWhiteSpace(reason) ? "by request" : reason);
        return Record.View();
    }

    /// <inheritdoc />
    public async Task<JobView> WaitForCompletionAsync(TimeSpan timeout)
    {
        Record.Require();
        if (!Job.Status.IsFinal())
            await _completion.WaitAsync(timeout);
        return Record.View();
    }

    /// <inheritdoc />
    public Task<JobWatchStart> WatchAsync(IJobObserver observer)
    {
        Record.Require();
        Record.Watchers.Add(observer);
        return Task.FromResult(new JobWatchStart(Record.View(), Job.Result?.Text?.Text ?? Record.Watchers.Output));
    }

    /// <inheritdoc />
    public Task<string> GetOutputAsync()
    {
        Record.Require();
        return Task.FromResult(Job.Result?.Text?.Text ?? Record.Watchers.Output);
    }

    /// <inheritdoc />
    public Task UnwatchAsync(IJobObserver observer)
    {
        Record.Watchers.Remove(observer);
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public async Task<JobPlacement?> StartAsync(JobPlacement placement)
    {
        if (!Record.Exists)
            return null;
        if (Job.Status is JobStatus.Assigned or JobStatus.Running && Job.Attempts is [.., { Silo: { } runningOn } current])
            return new JobPlacement(runningOn, current.Worker, current.Device ?? "cpu");
        if (Job.Status != JobStatus.Queued)
            return null;
        if (_parked)
        {
            // This activation is going: an attempt started here would outlive it. The queue starts the job again (in
            // a new activation) after its re-check.
            throw new InvalidOperationException($"job {Id} is being parked (its activation deactivates); start it again");
        }

        if (time.GetUtcNow() >= Job.ExpiresAt)
        {
            await ExpireAsync();
            return null;
        }

        Attempts.Begin(placement);
        return placement;
    }

    /// <inheritdoc />
    public Task<bool> RenewLeaseAsync(int attempt, string silo) => Task.FromResult(Attempts.Renew(attempt, silo));

    /// <inheritdoc />
    public Task HandBackAsync(int attempt, string silo)
    {
        Attempts.HandBack(attempt);
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task OnUpdateAsync(ExecutionUpdate update) => Attempts.OnUpdateAsync(update);

    /// <inheritdoc />
    public Task<bool> CheckpointAsync(int attempt, JobCheckpoint checkpoint) => Attempts.CheckpointAsync(attempt, checkpoint);

    /// <inheritdoc />
    public Task<bool> AddArtifactAsync(int attempt, ArtifactRef artifact) => Attempts.AddArtifactAsync(attempt, artifact);

    private Task ExpireAsync() => Attempts.ExpireAsync();

    /// <inheritdoc />
    public Task SettleAsync() => Settler.SettleAsync();

    /// <inheritdoc />
    public void Finished() => _completion.Finished();

    /// <inheritdoc />
    public IGrainTimer RegisterTimer(Func<Task> tick, TimeSpan period, bool once = false) =>
        this.RegisterGrainTimer(tick, period, once ? Timeout.InfiniteTimeSpan : period);

    /// <inheritdoc />
    public void DeactivateWhenUnwatched()
    {
        if (Record.Watchers.Count == 0)
            this.DeactivateOnIdle();
    }

    /// <summary>A finished job is a conflict for any change (the HTTP API answers 409, the CLI exits 4).</summary>
    private void RequireUnfinished(string what)
    {
        if (Job.Status.IsFinal())
            throw new JobFinishedException(Id, Job.Status, what);
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Job {JobId} accepted: {Kind} on {Model}")]
    private partial void LogAccepted(Guid jobId, JobKind kind, string model);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Job {JobId} on {Model} served from the result cache (job {SourceJobId}'s result)")]
    private partial void LogServedFromCache(Guid jobId, string model, Guid sourceJobId);

}
