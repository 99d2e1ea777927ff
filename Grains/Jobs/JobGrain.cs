using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Placement;
using PoolAI.Inference;
using PoolAI.Models;
using PoolAI.Placement;
using PoolAI.Rewards;
using PoolAI.Storage;

namespace PoolAI.Jobs;

/// <summary>
/// One job, on a coordinator silo. Every status change goes through <see cref="JobStateMachine"/> and is persisted
/// before it is reported. An attempt runs as a background task of the activation (so the grain keeps answering
/// status, cancel and output calls while the inference grain generates); partial output arrives
/// through <see cref="IGenerationSink"/> and is pushed to watchers.
/// <para>
/// An attempt is leased: the serving silo renews the lease every <see cref="JobOptions.LeaseInterval"/>, and a lease
/// not renewed for <see cref="JobOptions.LeaseTimeout"/> (miner killed, hung or cut off) ends the attempt, keeps that
/// silo out of placement for a while (<see cref="WorkerAvailability.Suspect"/>) and puts the job back in the queue.
/// A lost activation (coordinator crash) is detected when the job is next activated, which its queue does at start.
/// </para>
/// <para>
/// Immovable for the activation rebalancer: a running attempt waits on the inference grain's answer outside any
/// request, so migrating the activation would cut the attempt short.
/// </para>
/// </summary>
[CoordinatorFilter]
[Immovable(ImmovableKind.Rebalancer)]
public sealed partial class JobGrain(
    [PersistentState("job", PoolKeys.Storage)] IPersistentState<JobState> state,
    ModelRegistry registry,
    WorkerAvailability availability,
    IOptions<JobOptions> options,
    IOptions<RewardOptions> rewards,
    PoolAI.Admin.PoolSettingsCache settings,
    TimeProvider time,
    ILogger<JobGrain> logger) : Grain, IJobGrain, IGenerationSink
{
    private readonly SerializedWrites<JobState> _writes = new(state);
    private readonly HashSet<IJobObserver> _observers = [];
    private readonly OffsetText _output = new();
    private readonly TaskCompletionSource _finished = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private CancellationTokenSource? _run;
    private IGrainTimer? _leaseCheck;
    private IGrainTimer? _settleRetry;
    private Task _settling = Task.CompletedTask;
    private bool _deactivating;
    private (JobStatus, DateTimeOffset) _indexed;
    private DateTimeOffset _leaseRenewedAt;
    private int _leaseExpiredAttempt;
    private int _handedBackAttempt;
    private int _tokens;
    private bool _attemptUnsaved;
    private bool _parked;
    private int _waiters;
    private IJobQueueGrain? _queue;
    private IJobIndexGrain? _index;

    private Guid Id => this.GetPrimaryKey();

    private JobState Job => state.State;

    // References are kept: resolving a grain interface by type costs more than a local call.
    private IJobQueueGrain Queue => _queue ??= GrainFactory.Reference<IJobQueueGrain>(Job.Spec!.Model);

    private IJobIndexGrain Index => _index ??= GrainFactory.Reference<IJobIndexGrain>(Job.Spec!.Requester);

    /// <inheritdoc />
    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (!state.RecordExists || Job.Spec is null)
            return;
        Index.RecordAsync(IndexEntry()).Ignore();
        _indexed = (Job.Status, Job.UpdatedAt);
        if (Job.Status.IsFinal())
        {
            _finished.TrySetResult();
            if (!Job.Settled)
                ScheduleSettle(TimeSpan.Zero); // the activation that finished it died before settling
            return;
        }

        var now = time.GetUtcNow();
        if (now >= Job.ExpiresAt)
        {
            await ExpireAsync();
            return;
        }

        if (Job.Status is JobStatus.Assigned or JobStatus.Running)
        {
            // This activation is new, so the attempt it recorded has no one waiting for its result.
            var status = JobStateMachine.FailAttempt(Job, "interrupted: the job's activation was lost", retryable: true, now);
            await SaveAsync();
            if (status == JobStatus.Failed)
            {
                _finished.TrySetResult();
                await Queue.ReleaseAsync(Id);
                return;
            }

            await Queue.RequeueAsync(Entry());
        }
        else
        {
            Admitted(await Queue.EnqueueAsync(Entry()));
        }
    }

    /// <summary>Persists the job, then reports it to its requester's index (one-way) when its status changed.</summary>
    private async Task SaveAsync()
    {
        _attemptUnsaved = false; // this write holds it
        await _writes.WriteAsync();
        if (Job.Spec is not null && (Job.Status, Job.UpdatedAt) != _indexed)
        {
            _indexed = (Job.Status, Job.UpdatedAt);
            Index.RecordAsync(IndexEntry()).Ignore();
        }
    }

    /// <inheritdoc />
    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        // A graceful stop lets a settlement in progress finish; one cut short is repeated at the next activation.
        _deactivating = true;
        await _settling.WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing | ConfigureAwaitOptions.ContinueOnCapturedContext);
    }

    /// <inheritdoc />
    public async Task<JobView> SubmitAsync(JobSpec spec)
    {
        if (state.RecordExists && Job.Spec is not null)
            return View();
        JobSpecRules.Validate(spec);
        if (spec.Kind != JobKind.System)
            registry.Validate(spec);
        settings.EnsureAcceptingJobs();
        var cached = await LookUpCacheAsync(spec);
        JobStateMachine.Accept(Job, spec, time.GetUtcNow(), options.Value.DefaultTimeToLive, options.Value.MaxAttempts);
        if (cached is not null)
        {
            // No queue, no worker: the job is done as accepted. Settlement credits no one (there is no attempt) and
            // starts no verification, but still delivers the webhook.
            JobStateMachine.ServeFromCache(Job, cached, time.GetUtcNow());
            await SaveAsync();
            _finished.TrySetResult();
            LogServedFromCache(Id, spec.Model, cached.JobId);
            await SettleAsync();
            return View();
        }

        await SaveAsync();
        var admission = await Queue.AdmitAsync(Entry());
        LogAccepted(Id, spec.Kind, spec.Model);
        if (admission.StartOn is { } placement)
            BeginAttempt(placement); // a free slot was taken for it: no start call from the queue
        else
            Admitted(admission.BlockedReason);
        return View();
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
        RequireJob();
        if (!Job.Status.IsFinal() && time.GetUtcNow() >= Job.ExpiresAt)
            await ExpireAsync();
        else if (Job.Status == JobStatus.Queued)
            Admitted(await Queue.EnqueueAsync(Entry())); // the queue may count it as running (a lost requeue): it waits again
        return View();
    }

    /// <inheritdoc />
    public Task ParkAsync()
    {
        if (!state.RecordExists || (Job.Status == JobStatus.Queued && _waiters == 0 && _observers.Count == 0 && _settling.IsCompleted))
        {
            _parked = true;
            this.DeactivateOnIdle();
        }

        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task<JobView> GetAsync() => Task.FromResult(View());

    /// <summary>The result cache's key for <paramref name="spec"/>, or null when the job does not use the cache.</summary>
    private string? CacheKey(JobSpec spec) =>
        options.Value.ResultCacheTimeToLive > TimeSpan.Zero && registry.Contains(spec.Model)
            ? ResultCacheKey.For(spec, registry.Get(spec.Model).Weights?.Sha256)
            : null;

    /// <summary>A live cached result for <paramref name="spec"/>; null on a miss, for a job that does not use the cache, or when the cache cannot be read (the job then runs).</summary>
    private async Task<CachedResult?> LookUpCacheAsync(JobSpec spec)
    {
        if (CacheKey(spec) is not { } key)
            return null;
        try
        {
            return await GrainFactory.GetGrain<IResultCacheGrain>(key).GetAsync();
        }
        catch (Exception ex)
        {
            LogCacheFailed(Id, ex);
            return null;
        }
    }

    /// <summary>Stores a result this job's worker produced in the result cache; best effort, as a lost entry only costs a re-run.</summary>
    private async Task StoreInCacheAsync(JobSpec spec, JobResult result)
    {
        if (result.Cached || CacheKey(spec) is not { } key)
            return;
        try
        {
            await GrainFactory.GetGrain<IResultCacheGrain>(key).StoreAsync(new CachedResult(Id, result, time.GetUtcNow()));
        }
        catch (Exception ex)
        {
            LogCacheFailed(Id, ex);
        }
    }

    /// <inheritdoc />
    public async Task RecordWebhookAttemptAsync(WebhookAttempt attempt)
    {
        RequireJob();
        if (Job.WebhookAttempts.Any(a => a.Number == attempt.Number))
            return;
        Job.WebhookAttempts.Add(attempt);
        await _writes.WriteAsync();
    }

    /// <inheritdoc />
    public async Task<JobView> SetPriorityAsync(int priority)
    {
        RequireJob();
        JobSpecRules.ValidatePriority(priority);
        if (Job.Status.IsFinal())
            throw new JobValidationException("status", $"the job has finished ({Job.Status}); its priority cannot change");
        if (Job.Spec!.Priority == priority)
            return View();
        Job.Spec = Job.Spec with { Priority = priority };
        await SaveAsync();
        if (Job.Status == JobStatus.Queued)
            await Queue.ReprioritizeAsync(Id, priority);
        return View();
    }

    /// <inheritdoc />
    public async Task<JobView> CancelAsync(string reason)
    {
        RequireJob();
        var wasQueued = Job.Status == JobStatus.Queued;
        if (JobStateMachine.Cancel(Job, string.IsNullOrWhiteSpace(reason) ? "by request" : reason, time.GetUtcNow()))
            await FinishEarlyAsync(wasQueued);
        return View();
    }

    /// <inheritdoc />
    public async Task<JobView> WaitForCompletionAsync(TimeSpan timeout)
    {
        RequireJob();
        if (!Job.Status.IsFinal())
        {
            _waiters++;
            try
            {
                // WaitAsync drops its timer when the job finishes first (Task.Delay's would live out the timeout).
                await _finished.Task.WaitAsync(timeout, time).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing | ConfigureAwaitOptions.ContinueOnCapturedContext);
            }
            finally
            {
                _waiters--;
            }
        }

        return View();
    }

    /// <inheritdoc />
    public Task<JobWatchStart> WatchAsync(IJobObserver observer)
    {
        RequireJob();
        _observers.Add(observer);
        var output = Job.Result?.Text ?? _output.ToString();
        return Task.FromResult(new JobWatchStart(View(), output));
    }

    /// <inheritdoc />
    public Task UnwatchAsync(IJobObserver observer)
    {
        _observers.Remove(observer);
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public async Task<JobPlacement?> StartAsync(JobPlacement placement)
    {
        if (!state.RecordExists || Job.Spec is null)
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

        BeginAttempt(placement);
        return placement;
    }

    /// <summary>Starts an attempt of this <c>Queued</c> job on the slot its queue took for it at <paramref name="placement"/>.</summary>
    private void BeginAttempt(JobPlacement placement)
    {
        var attempt = JobStateMachine.Assign(Job, time.GetUtcNow());
        JobStateMachine.Locate(Job, placement.Silo, placement.Worker, placement.Device);
        // Not written yet: the attempt is stored with its first progress, its outcome, or the first lease check,
        // whichever comes first, so a job that finishes within a lease interval costs one write less. A crash before
        // then finds the job still Queued in storage, and it waits again (see the queue's EnqueueAsync).
        _attemptUnsaved = true;
        _output.Reset();
        _tokens = 0;
        _leaseRenewedAt = time.GetUtcNow();
        Publish(0, string.Empty);
        _run = new CancellationTokenSource();
        var check = options.Value.LeaseInterval;
        _leaseCheck ??= this.RegisterGrainTimer(CheckLeaseAsync, check, check);
        _ = RunAttemptAsync(attempt, placement.Silo, _run.Token);
    }

    /// <inheritdoc />
    public Task<bool> RenewLeaseAsync(int attempt, string silo)
    {
        if (!IsCurrent(attempt))
            return Task.FromResult(false);
        _leaseRenewedAt = time.GetUtcNow();
        availability.Clear(silo);
        return Task.FromResult(true);
    }

    /// <inheritdoc />
    public Task HandBackAsync(int attempt, string silo)
    {
        if (IsCurrent(attempt) && _handedBackAttempt != attempt)
        {
            _handedBackAttempt = attempt;
            _run?.Cancel(); // the attempt's task records the hand-back and requeues
        }

        return Task.CompletedTask;
    }

    private async Task CheckLeaseAsync()
    {
        var attempt = Job.Attempts.Count;
        if (!IsCurrent(attempt))
        {
            _leaseCheck?.Dispose();
            _leaseCheck = null;
            return;
        }

        if (time.GetUtcNow() >= Job.ExpiresAt)
        {
            await ExpireAsync(); // a waiting job's expiry is its queue's to notice (it sweeps), a running one's is ours
            return;
        }

        if (_attemptUnsaved)
            await SaveAsync(); // still running after a lease interval: store the attempt
        if (IsCurrent(attempt) && time.GetUtcNow() - _leaseRenewedAt > options.Value.LeaseTimeout && _leaseExpiredAttempt != attempt)
        {
            _leaseExpiredAttempt = attempt;
            _run?.Cancel(); // the attempt's task records the failure and requeues
        }
    }

    /// <inheritdoc />
    public async Task OnGeneratedAsync(GenerationChunk chunk)
    {
        if (!IsCurrent(chunk.Attempt))
            return;
        if (Job.Status == JobStatus.Assigned)
        {
            JobStateMachine.Run(Job, chunk.Silo, time.GetUtcNow());
            await SaveAsync();
            if (!IsCurrent(chunk.Attempt))
                return;
        }

        _tokens = Math.Max(_tokens, chunk.TokensGenerated);
        var offset = _output.Length;
        Publish(offset, _output.Accept(chunk.Offset, chunk.Text));
    }

    private async Task RunAttemptAsync(int attempt, string silo, CancellationToken cancellationToken)
    {
        var spec = Job.Spec!;
        var requeued = false;
        var released = false;
        try
        {
            // WaitAsync: a call to a silo that died may never answer; cancellation (lease, cancel, expiry) must end the wait at once.
            var result = spec.Kind == JobKind.System
                ? await GrainFactory.Reference<ISystemTaskGrain>(InferenceKeys.Pinned(spec.Model, silo)).RunAsync(spec, cancellationToken).WaitAsync(cancellationToken)
                : await GrainFactory.Reference<IInferenceGrain>(InferenceKeys.Pinned(spec.Model, silo))
                    .GenerateAsync(new GenerationRequest(spec.Generation!, attempt, this.AsReference<IGenerationSink>(), options.Value.ChunkInterval, options.Value.LeaseInterval), cancellationToken)
                    .WaitAsync(cancellationToken);
            if (!IsCurrent(attempt))
                return;
            // Cached before the job reads Succeeded, so whoever sees it succeed finds its result cached. A crash in
            // between leaves an entry that is still what this checkpoint gives for the request; the job reruns.
            await StoreInCacheAsync(spec, result);
            if (!IsCurrent(attempt))
                return;
            if (Job.Status == JobStatus.Assigned)
                JobStateMachine.Run(Job, result.Silo, time.GetUtcNow());
            JobStateMachine.Succeed(Job, result, time.GetUtcNow());
            if (spec.Kind == JobKind.System && spec.Verifies is null && spec.WebhookUrl is null)
                Job.Settled = true; // nothing to pay, verify or deliver: stored with the success in one write
            await SaveAsync();
            LogSucceeded(Id, result.TokensGenerated, result.TokensPerSecond, result.Silo);
            // Credit and slot first, then tell watchers: a client that sees the job done (and, say, stops an embedded
            // pool) finds it paid and its slot free. The stored status already reads Succeeded.
            await SettleAsync();
            await Queue.ReleaseAsync(Id).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing | ConfigureAwaitOptions.ContinueOnCapturedContext);
            released = true; // a release that failed here is made by the queue when it next wakes its running jobs
            var offset = Math.Min(_output.Length, result.Text.Length);
            _output.Reset(result.Text);
            _tokens = result.TokensGenerated;
            Publish(offset, result.Text[offset..]);
            _finished.TrySetResult();
            // Its state is stored and its waiters answered: unless someone watches, the activation goes once idle (a
            // later read activates it again). A pool finishing thousands of jobs a second would otherwise hold each
            // for the collection age, and the garbage collector would walk them all.
            if (_observers.Count == 0)
                this.DeactivateOnIdle();
        }
        catch (Exception ex) when (IsCurrent(attempt) && (ex is WorkHandedBackException || _handedBackAttempt == attempt))
        {
            // Said by the silo's HandBackAsync, by its answer, or both; its answer alone may be lost as it stops.
            var handedBack = ex as WorkHandedBackException ?? new WorkHandedBackException(silo);
            LogHandedBack(Id, attempt, handedBack.Silo);
            availability.Suspect(handedBack.Silo); // it is leaving: place nothing more there, even before its worker's sign-off is seen
            JobStateMachine.HandBack(Job, handedBack.Message, time.GetUtcNow());
            await SaveAsync();
            Publish(_output.Length, string.Empty);
            requeued = true;
            await Queue.RequeueAsync(Entry());
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested && !(_leaseExpiredAttempt == attempt && IsCurrent(attempt)))
        {
            // Cancel or expiry already recorded the final state.
        }
        catch (Exception ex) when (IsCurrent(attempt))
        {
            var (reason, retryable) = _leaseExpiredAttempt == attempt
                ? ($"lease expired: {silo} did not renew it for {options.Value.LeaseTimeout.TotalSeconds:0.#} s", true)
                : Describe(ex, spec.Model, silo);
            if (_leaseExpiredAttempt == attempt || ex is SiloUnavailableException)
                availability.Suspect(silo);
            LogAttemptFailed(Id, attempt, reason, ex);
            var worker = Job.Attempts[attempt - 1].Worker;
            var status = JobStateMachine.FailAttempt(Job, reason, retryable, time.GetUtcNow());
            await SaveAsync();
            Publish(_output.Length, string.Empty);
            if (status == JobStatus.Queued)
            {
                requeued = true;
                await Queue.RequeueAsync(Entry());
            }
            else
            {
                _finished.TrySetResult();
            }

            if (worker is not null && ex is not JobValidationException)
            {
                // Pays nothing and resets the worker's streak; bad input is not the worker's fault.
                await GrainFactory.GetGrain<IRewardLedgerGrain>(worker).RecordFailureAsync(Id, attempt, reason)
                    .ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing | ConfigureAwaitOptions.ContinueOnCapturedContext);
            }

            if (status != JobStatus.Queued)
                await SettleAsync();
        }
        catch (Exception ex)
        {
            LogAttemptFailed(Id, attempt, "ended after the job was cancelled or expired", ex);
        }
        finally
        {
            if (!requeued && !released)
                await Queue.ReleaseAsync(Id);
        }
    }

    private static (string Reason, bool Retryable) Describe(Exception ex, string model, string silo) => ex switch
    {
        JobValidationException validation => (validation.Message, false),
        SiloUnavailableException => ($"silo lost: {silo} became unavailable (killed, crashed or cut off)", true),
        OrleansException when ex.Message.Contains("No active nodes are compatible", StringComparison.Ordinal) =>
            ($"silo lost: {silo} no longer serves model {model}", true),
        TimeoutException => ($"timed out: {ex.Message}", true),
        _ => ($"{ex.GetType().Name}: {ex.Message}", true),
    };

    private async Task FinishEarlyAsync(bool wasQueued)
    {
        await SaveAsync();
        if (wasQueued)
            await Queue.RemoveAsync(Id);
        else if (_run is null)
            await Queue.ReleaseAsync(Id); // the attempt holding the slot ran in an earlier activation
        else
            _run.Cancel(); // the attempt's own ending releases its slot
        Publish(_output.Length, string.Empty);
        _finished.TrySetResult();
        LogEnded(Id, Job.Status, Job.StatusMessage);
        await SettleAsync();
    }

    /// <summary>
    /// Does a final job's consequences once: credits the worker of a succeeded job and, for a sampled share of jobs,
    /// starts the verification of its output; a check job reports its outcome (success or not) to the verification it
    /// serves. <see cref="JobState.Settled"/> is persisted last, so a crash in between repeats the steps on the next
    /// activation; each is idempotent per job (a ledger refuses a second credit, a verification a second report).
    /// A failed step is retried every <see cref="SettleRetry"/>.
    /// </summary>
    private Task SettleAsync()
    {
        if (_settling.IsCompleted)
            _settling = SettleOnceAsync();
        return _settling;
    }

    private async Task SettleOnceAsync()
    {
        if (Job.Spec is not { } spec || !Job.Status.IsFinal() || Job.Settled)
            return;
        try
        {
            var attempt = Job.Attempts.Count > 0 ? Job.Attempts[^1] : null;
            if (Job.Status == JobStatus.Succeeded && Job.Result is { } result && attempt?.Worker is { } worker)
            {
                if (rewards.Value.CreditDelay > TimeSpan.Zero)
                {
                    LogCreditWaits(Id, worker, rewards.Value.CreditDelay);
                    await Task.Delay(rewards.Value.CreditDelay, time);
                }

                var units = WorkUnits(spec.Kind, result);
                if (units > 0)
                {
                    var parameters = registry.Contains(spec.Model) ? registry.Get(spec.Model).Weights?.Parameters ?? 0 : 0;
                    await GrainFactory.GetGrain<IRewardLedgerGrain>(worker).CreditAsync(new CreditRequest(
                        Id, spec.Kind, spec.Model, parameters, units, result.TokensPerSecond, attempt.Device ?? "cpu", Job.UpdatedAt));
                }

                if (spec.Verifies is { } verified)
                    await GrainFactory.GetGrain<IVerificationGrain>(verified).ReportAsync(Id, worker, result.Text);
                else if (units > 0 && Sampled(Id, rewards.Value.VerificationShare))
                    await GrainFactory.GetGrain<IVerificationGrain>(Id).StartAsync(spec, worker, result.Text);
            }
            else if (spec.Verifies is { } verified)
            {
                await GrainFactory.GetGrain<IVerificationGrain>(verified).ReportAsync(Id, null, null);
            }

            if (spec.WebhookUrl is { } webhook)
                await GrainFactory.GetGrain<IWebhookGrain>(Id).StartAsync(webhook, spec.Requester, WebhookPayload());

            Job.Settled = true;
            await SaveAsync();
        }
        catch (Exception ex)
        {
            LogSettleFailed(Id, ex);
            if (!_deactivating)
                ScheduleSettle(SettleRetry);
        }
    }

    /// <summary>The JSON a job's webhook receives: <c>{"event":"job.final","job":JOB_VIEW}</c>, the view as the HTTP API shows it.</summary>
    private string WebhookPayload() => System.Text.Json.JsonSerializer.Serialize(new Dictionary<string, object>
    {
        ["event"] = "job.final",
        ["job"] = View() with { WebhookAttempts = [] },
    }, WebhookJson);

    private static readonly System.Text.Json.JsonSerializerOptions WebhookJson = new()
    {
        PropertyNamingPolicy = System.Text.Json.JsonNamingPolicy.SnakeCaseLower,
        Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter() },
    };

    /// <summary>How long a failed settlement waits before it is tried again.</summary>
    public static readonly TimeSpan SettleRetry = TimeSpan.FromSeconds(5);

    private void ScheduleSettle(TimeSpan due)
    {
        _settleRetry?.Dispose();
        _settleRetry = this.RegisterGrainTimer(SettleAsync, due, Timeout.InfiniteTimeSpan);
    }

    /// <summary>Work units of a finished job (see <see cref="RewardEntry.WorkUnits"/>): generated tokens for text and code.</summary>
    private static long WorkUnits(JobKind kind, JobResult result) => kind switch
    {
        JobKind.TextGeneration or JobKind.CodeGeneration => RewardFormula.TextUnits(result.TokensGenerated),
        _ => 0,
    };

    /// <summary>Whether the job is in the verified share: decided by its id, so a repeat after a crash decides the same.</summary>
    public static bool Sampled(Guid jobId, double share)
    {
        if (share <= 0)
            return false;
        if (share >= 1)
            return true;
        Span<byte> bytes = stackalloc byte[16];
        jobId.TryWriteBytes(bytes);
        return BitConverter.ToUInt32(bytes) / (double)uint.MaxValue < share;
    }

    private async Task ExpireAsync()
    {
        var wasQueued = Job.Status == JobStatus.Queued;
        if (JobStateMachine.Expire(Job, time.GetUtcNow()))
            await FinishEarlyAsync(wasQueued);
    }

    /// <summary>The job as its requester's index lists it.</summary>
    private JobIndexEntry IndexEntry() => new(Id, Job.Spec!.Kind, Job.Spec.Model, Job.Status, Job.CreatedAt, Job.UpdatedAt);

    /// <summary>The job as its queue holds it while it waits.</summary>
    private QueuedJob Entry() =>
        new(Id, Job.Spec!.Priority, Job.CreatedAt, Job.ExpiresAt, Job.Spec.ExcludedWorkers, Job.Spec.Requester, Job.Spec.Requirements);

    private bool IsCurrent(int attempt) =>
        Job.Attempts.Count == attempt && Job.Status is JobStatus.Assigned or JobStatus.Running;

    private void Publish(int offset, string text)
    {
        if (_observers.Count == 0)
            return;
        var update = new JobUpdate(Id, Job.Status, offset, text, _tokens, Job.StatusMessage);
        foreach (var observer in _observers.ToList())
        {
            try
            {
                observer.OnUpdateAsync(update).Ignore();
            }
            catch (Exception)
            {
                _observers.Remove(observer);
            }
        }
    }

    private void RequireJob()
    {
        if (!state.RecordExists || Job.Spec is null)
            throw new KeyNotFoundException($"no job with id {Id}");
    }

    private JobView View()
    {
        RequireJob();
        var tokens = Job.Result?.TokensGenerated ?? (Job.Status is JobStatus.Assigned or JobStatus.Running ? _tokens : 0);
        return new JobView(Id, Job.Spec!, Job.Status, Job.StatusMessage, Job.CreatedAt, Job.UpdatedAt, Job.Attempts.ToList(), tokens, Job.Result, Job.WebhookAttempts.ToList());
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Job {JobId} accepted: {Kind} on {Model}")]
    private partial void LogAccepted(Guid jobId, JobKind kind, string model);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Job {JobId} on {Model} served from the result cache (job {SourceJobId}'s result)")]
    private partial void LogServedFromCache(Guid jobId, string model, Guid sourceJobId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId}: the result cache could not be read or written; the job goes on without it")]
    private partial void LogCacheFailed(Guid jobId, Exception exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId} attempt {Attempt} handed back by {Silo}, which is shutting down")]
    private partial void LogHandedBack(Guid jobId, int attempt, string silo);

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId} succeeded: {Tokens} tokens at {TokensPerSecond:F1} tokens/s on {Silo}")]
    private partial void LogSucceeded(Guid jobId, int tokens, double tokensPerSecond, string silo);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId} attempt {Attempt} failed: {Reason}")]
    private partial void LogAttemptFailed(Guid jobId, int attempt, string reason, Exception exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId} ended {Status}: {Message}")]
    private partial void LogEnded(Guid jobId, JobStatus status, string? message);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId}: could not settle (credit, verification); trying again shortly")]
    private partial void LogSettleFailed(Guid jobId, Exception exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId}: credit to worker {Worker} waits {Delay} (PoolAI:Rewards:CreditDelay)")]
    private partial void LogCreditWaits(Guid jobId, string worker, TimeSpan delay);
}
