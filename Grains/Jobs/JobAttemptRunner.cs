using Microsoft.Extensions.Logging;
using PoolAI.Execution;
using PoolAI.Placement;

namespace PoolAI.Jobs;

/// <summary>What a job grain offers the runner of its attempts and its settler, beside its <see cref="JobRecord"/>.</summary>
internal interface IJobHost
{
    /// <summary>The stored job and its reporting.</summary>
    JobRecord Record { get; }

    /// <summary>Does a final job's consequences (credit, verification, artifact holds, webhook) once.</summary>
    Task SettleAsync();

    /// <summary>Answers everyone waiting for the job to finish.</summary>
    void Finished();

    /// <summary>Registers a timer of the job's activation: every <paramref name="period"/>, or once after it.</summary>
    IGrainTimer RegisterTimer(Func<Task> tick, TimeSpan period, bool once = false);

    /// <summary>Lets the activation go once idle, unless someone watches it.</summary>
    void DeactivateWhenUnwatched();
}

/// <summary>
/// Runs a job's attempts for its job grain: starts each on the silo its queue placed it on (through the executor grain
/// pinned there), holds its lease (<see cref="JobLease"/>), takes its streamed output, progress and hand-back, and
/// records how it ended — succeeded, handed back, failed (<see cref="AttemptFailure"/>) — through
/// <see cref="JobStateMachine"/>, requeuing or releasing its slot. Runs on the grain's turns only.
/// </summary>
internal sealed partial class JobAttemptRunner(
    IJobHost host,
    IGrainFactory grains,
    IExecutionSink sink,
    JobKindRegistry kinds,
    ResultCaching cache,
    WorkerAvailability availability,
    JobOptions options,
    TimeProvider time,
    ILogger logger)
{
    private readonly JobLease _lease = new(time, options.LeaseTimeout);
    private CancellationTokenSource? _run;
    private IGrainTimer? _leaseCheck;
    private int _handedBackAttempt;

    private JobRecord Record => host.Record;

    private JobState Job => host.Record.Job;

    /// <summary>
    /// Starts an attempt of this <c>Queued</c> job on the slot its queue took for it at <paramref name="placement"/>. It
    /// is not written yet: it is stored with its first progress, its outcome, or the first lease check, whichever comes
    /// first, so a job that finishes within a lease interval costs one write less. A crash before then finds the job
    /// still Queued in storage, and it waits again (see the queue's EnqueueAsync).
    /// </summary>
    public void Begin(JobPlacement placement)
    {
        var attempt = JobStateMachine.Assign(Job, time.GetUtcNow());
        JobStateMachine.Locate(Job, placement.Silo, placement.Worker, placement.Device);
        Record.AttemptUnsaved = true;
        Record.Watchers.ResetOutput();
        _lease.Start();
        Record.Publish(0, string.Empty);
        _run = new CancellationTokenSource();
        _leaseCheck ??= host.RegisterTimer(CheckLeaseAsync, options.LeaseInterval);
        _ = RunAsync(attempt, placement.Silo, _run.Token);
    }

    /// <summary>
    /// In a new activation, ends an attempt that its state says runs: nobody waits for its result any more (the
    /// activation that started it was lost). The job waits again, or fails when that was its last attempt.
    /// </summary>
    public async Task RecoverLostAttemptAsync()
    {
        var status = JobStateMachine.FailAttempt(Job, "interrupted: the job's activation was lost", retryable: true, time.GetUtcNow());
        await Record.SaveAsync();
        if (status == JobStatus.Failed)
        {
            host.Finished();
            await Record.Queue.ReleaseAsync(Record.Id);
            return;
        }

        await Record.Queue.RequeueAsync(Record.Entry());
    }

    /// <summary>Records a checkpoint of the running attempt (its artifact already stored); false when the attempt is not current.</summary>
    public async Task<bool> CheckpointAsync(int attempt, JobCheckpoint checkpoint) =>
        JobStateMachine.Checkpoint(Job, checkpoint with { Attempt = attempt }) && await HoldAsync(checkpoint.Artifact);

    /// <summary>Adds an artifact of the running attempt (already stored); false when the attempt is not current.</summary>
    public async Task<bool> AddArtifactAsync(int attempt, ArtifactRef artifact) =>
        JobStateMachine.AddArtifact(Job, attempt, artifact) && await HoldAsync(artifact);

    /// <summary>What the running attempt had produced, for a job ending early (cancelled, expired); null when it produced nothing.</summary>
    public JobResult? PartialResult()
    {
        if (Job.Status is not (JobStatus.Assigned or JobStatus.Running) || Job.Attempts is not [.., var attempt]
            || (Record.Watchers.OutputLength == 0 && Job.Progress is not { Step: > 0 })
            || kinds.Get(Job.Spec!.Kind) is not { } kind || kind.PartialOutput(Record.Watchers.Output, Job.Progress) is not { } output)
            return null;
        return new JobResult(output, time.GetUtcNow() - attempt.StartedAt, attempt.Silo ?? string.Empty, Partial: true, WorkUnits: kind.WorkUnits(output));
    }

    /// <summary>Stores the job with its new artifact, which it holds while it runs (settlement sets the hold's end).</summary>
    private async Task<bool> HoldAsync(ArtifactRef artifact)
    {
        await Record.SaveAsync();
        await grains.GetGrain<Artifacts.IArtifactGrain>(artifact.Id).HoldAsync(Record.Id, DateTimeOffset.MaxValue);
        return true;
    }

    /// <summary>Cancels the unfinished job, keeping what its running attempt had produced.</summary>
    public async Task CancelAsync(string reason)
    {
        var wasQueued = Job.Status == JobStatus.Queued;
        if (JobStateMachine.Cancel(Job, reason, time.GetUtcNow(), PartialResult()))
            await FinishEarlyAsync(wasQueued);
    }

    /// <summary>Expires the unfinished job whose time to live has ended, keeping what its running attempt had produced.</summary>
    public async Task ExpireAsync()
    {
        var wasQueued = Job.Status == JobStatus.Queued;
        if (JobStateMachine.Expire(Job, time.GetUtcNow(), PartialResult()))
            await FinishEarlyAsync(wasQueued);
    }

    /// <summary>Ends a job whose state was just cancelled or expired: stores it, frees its place, tells everyone, settles it.</summary>
    private async Task FinishEarlyAsync(bool wasQueued)
    {
        await Record.SaveAsync();
        if (wasQueued)
            await Record.Queue.RemoveAsync(Record.Id);
        else if (_run is null)
            await Record.Queue.ReleaseAsync(Record.Id); // the attempt holding the slot ran in an earlier activation
        else
            _run.Cancel(); // the attempt's own ending releases its slot
        Record.Publish(Record.Watchers.OutputLength, string.Empty);
        host.Finished();
        LogEnded(Record.Id, Job.Status, Job.StatusMessage);
        await host.SettleAsync();
    }

    /// <summary>A lease renewal from <paramref name="silo"/>; false when the attempt is not current.</summary>
    public bool Renew(int attempt, string silo)
    {
        if (!JobStateMachine.IsCurrent(Job, attempt))
            return false;
        _lease.Renew();
        availability.Clear(silo);
        return true;
    }

    /// <summary>The silo gives the attempt back as it shuts down: the attempt's task records it and requeues.</summary>
    public void HandBack(int attempt)
    {
        if (JobStateMachine.IsCurrent(Job, attempt) && _handedBackAttempt != attempt)
        {
            _handedBackAttempt = attempt;
            _run?.Cancel();
        }
    }

    /// <summary>Streamed output and progress of the running attempt.</summary>
    public async Task OnUpdateAsync(ExecutionUpdate update)
    {
        if (!JobStateMachine.IsCurrent(Job, update.Attempt))
            return;
        if (Job.Status == JobStatus.Assigned)
        {
            JobStateMachine.Run(Job, update.Silo, time.GetUtcNow());
            await Record.SaveAsync();
            if (!JobStateMachine.IsCurrent(Job, update.Attempt))
                return;
        }

        if (update.Progress is { } progress && (Job.Progress is null || progress.Step >= Job.Progress.Step))
            Job.Progress = progress;
        var (offset, text) = Record.Watchers.Accept(update.Offset, update.Text);
        Record.Publish(offset, text);
    }

    private async Task CheckLeaseAsync()
    {
        var attempt = Job.Attempts.Count;
        if (!JobStateMachine.IsCurrent(Job, attempt))
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

        if (Record.AttemptUnsaved)
            await Record.SaveAsync(); // still running after a lease interval: store the attempt
        if (JobStateMachine.IsCurrent(Job, attempt) && _lease.HasExpired(attempt))
            _run?.Cancel(); // the attempt's task records the failure and requeues
    }

    private async Task RunAsync(int attempt, string silo, CancellationToken cancellationToken)
    {
        var spec = Job.Spec!;
        var kind = kinds.Get(spec.Kind);
        var requeued = false;
        var released = false;
        try
        {
            var request = new ExecutionRequest(Record.Id, attempt, spec.Kind, spec.Model, spec.Input!, sink, Job.Checkpoint, options.ChunkInterval, options.LeaseInterval);
            // WaitAsync: a call to a silo that died may never answer; cancellation (lease, cancel, expiry) must end the wait at once.
            var run = Miners.OpenMiners.TryWorkerOf(silo, out var openMiner)
                ? grains.Reference<Miners.IOpenMinerGrain>(openMiner).RunAsync(request, cancellationToken) // its proxy, on a coordinator
                : grains.Reference<IJobExecutorGrain>(ExecutorKeys.Pinned(spec.Kind, spec.Model, silo)).RunAsync(request, cancellationToken);
            var result = await run.WaitAsync(cancellationToken);
            // The coordinator counts the work, not the miner.
            result = result with { WorkUnits = kind.WorkUnits(result.Output) };
            if (!JobStateMachine.IsCurrent(Job, attempt))
                return;
            // Cached before the job reads Succeeded, so whoever sees it succeed finds its result cached. A crash in
            // between leaves an entry that is still what this checkpoint gives for the request; the job reruns.
            await cache.StoreAsync(Record.Id, spec, kind, result);
            if (!JobStateMachine.IsCurrent(Job, attempt))
                return;
            if (Job.Status == JobStatus.Assigned)
                JobStateMachine.Run(Job, result.Silo, time.GetUtcNow());
            JobStateMachine.Succeed(Job, result, time.GetUtcNow());
            Job.Settled = JobSettlement.NothingToDo(Job); // stored with the success in one write
            await Record.SaveAsync();
            LogSucceeded(Record.Id, spec.Kind, result.WorkUnits, result.UnitsPerSecond, result.Silo);
            // Credit and slot first, then tell watchers: a client that sees the job done (and, say, stops an embedded
            // pool) finds it paid and its slot free. The stored status already reads Succeeded.
            await host.SettleAsync();
            await Record.Queue.ReleaseAsync(Record.Id).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing | ConfigureAwaitOptions.ContinueOnCapturedContext);
            released = true; // a release that failed here is made by the queue when it next wakes its running jobs
            var streamed = result.Text?.Text ?? Record.Watchers.Output;
            var offset = Math.Min(Record.Watchers.OutputLength, streamed.Length);
            Record.Watchers.ResetOutput(streamed);
            Record.Publish(offset, streamed[offset..]);
            host.Finished();
            // Its state is stored and its waiters answered: unless someone watches, the activation goes once idle (a
            // later read activates it again). A pool finishing thousands of jobs a second would otherwise hold each
            // for the collection age, and the garbage collector would walk them all.
            host.DeactivateWhenUnwatched();
        }
        catch (Exception ex) when (JobStateMachine.IsCurrent(Job, attempt) && AttemptFailure.IsHandBack(ex, _handedBackAttempt == attempt))
        {
            // Said by the silo's HandBackAsync, by its answer, or both; its answer alone may be lost as it stops.
            var handedBack = ex as WorkHandedBackException ?? new WorkHandedBackException(silo);
            LogHandedBack(Record.Id, attempt, handedBack.Silo);
            availability.Suspect(handedBack.Silo); // it is leaving: place nothing more there, even before its worker's sign-off is seen
            JobStateMachine.HandBack(Job, handedBack.Message, time.GetUtcNow());
            await Record.SaveAsync();
            Record.Publish(Record.Watchers.OutputLength, string.Empty);
            requeued = true;
            await Record.Queue.RequeueAsync(Record.Entry());
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested && !(_lease.ExpiredFor(attempt) && JobStateMachine.IsCurrent(Job, attempt)))
        {
            // Cancel or expiry already recorded the final state.
        }
        catch (Exception ex) when (JobStateMachine.IsCurrent(Job, attempt))
        {
            var failure = AttemptFailure.Of(ex, _lease.ExpiredFor(attempt), _lease, spec.Model, silo);
            if (failure.SuspectSilo)
                availability.Suspect(silo);
            LogAttemptFailed(Record.Id, attempt, failure.Reason, ex);
            var worker = Job.Attempts[attempt - 1].Worker;
            var status = JobStateMachine.FailAttempt(Job, failure.Reason, failure.Retryable, time.GetUtcNow());
            await Record.SaveAsync();
            Record.Publish(Record.Watchers.OutputLength, string.Empty);
            if (status == JobStatus.Queued)
            {
                requeued = true;
                await Record.Queue.RequeueAsync(Record.Entry());
            }
            else
            {
                host.Finished();
            }

            if (worker is not null && failure.BlameWorker)
            {
                // Pays nothing and resets the worker's streak.
                await grains.GetGrain<Rewards.IRewardLedgerGrain>(worker).RecordFailureAsync(Record.Id, attempt, failure.Reason)
                    .ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing | ConfigureAwaitOptions.ContinueOnCapturedContext);
            }

            if (status != JobStatus.Queued)
                await host.SettleAsync();
        }
        catch (Exception ex)
        {
            LogAttemptFailed(Record.Id, attempt, "ended after the job was cancelled or expired", ex);
        }
        finally
        {
            if (!requeued && !released)
                await Record.Queue.ReleaseAsync(Record.Id);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId} ended {Status}: {Message}")]
    private partial void LogEnded(Guid jobId, JobStatus status, string? message);

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId} attempt {Attempt} handed back by {Silo}, which is shutting down")]
    private partial void LogHandedBack(Guid jobId, int attempt, string silo);

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId} ({Kind}) succeeded: {Units} work units at {UnitsPerSecond:F1}/s on {Silo}")]
    private partial void LogSucceeded(Guid jobId, JobKind kind, long units, double unitsPerSecond, string silo);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId} attempt {Attempt} failed: {Reason}")]
    private partial void LogAttemptFailed(Guid jobId, int attempt, string reason, Exception exception);
}
