namespace PoolAI.Jobs;

/// <summary>
/// A job grain's stored job and how it is reported: its persisted state (written one write at a time), its entry in
/// its requester's index (reported one-way whenever its status changes), its queue, and its watchers.
/// </summary>
internal sealed class JobRecord(Guid id, IPersistentState<JobState> state, IGrainFactory grains)
{
    private readonly Storage.SerializedWrites<JobState> _writes = new(state);
    private (JobStatus, DateTimeOffset) _indexed;
    private IJobQueueGrain? _queue;
    private IJobIndexGrain? _index;

    /// <summary>The job's id.</summary>
    public Guid Id => id;

    /// <summary>The job's state.</summary>
    public JobState Job => state.State;

    /// <summary>True once a job was submitted under this id.</summary>
    public bool Exists => state.RecordExists && Job.Spec is not null;

    /// <summary>The job's watchers and the output they were sent.</summary>
    public JobWatchers Watchers { get; } = new();

    /// <summary>An attempt started but not stored yet; the next write stores it.</summary>
    public bool AttemptUnsaved { get; set; }

    // References are kept: resolving a grain interface by type costs more than a local call. A job stored before queues
    // were per kind has no queue key: its queue is keyed by its model alone.

    /// <summary>The job's queue.</summary>
    public IJobQueueGrain Queue => _queue ??= grains.Reference<IJobQueueGrain>(Job.QueueKey ?? Job.Spec!.Model);

    private IJobIndexGrain Index => _index ??= grains.Reference<IJobIndexGrain>(Job.Spec!.Requester);

    /// <summary>Reports the job to its requester's index (a new activation makes good a report lost earlier).</summary>
    public void ReportToIndex()
    {
        _indexed = (Job.Status, Job.UpdatedAt);
        Index.RecordAsync(new JobIndexEntry(Id, Job.Spec!.Kind, Job.Spec.Model, Job.Status, Job.CreatedAt, Job.UpdatedAt)).Ignore();
    }

    /// <summary>Persists the job, then reports it to its index (one-way) when its status changed.</summary>
    public async Task SaveAsync()
    {
        AttemptUnsaved = false; // this write holds it
        await _writes.WriteAsync();
        if (Job.Spec is not null && (Job.Status, Job.UpdatedAt) != _indexed)
            ReportToIndex();
    }

    /// <summary>Sends the job's status, progress and <paramref name="text"/> (new output at <paramref name="offset"/>) to its watchers.</summary>
    public void Publish(int offset, string text) =>
        Watchers.Publish(new JobUpdate(Id, Job.Status, offset, text, Job.Progress, Job.StatusMessage));

    /// <summary>The job as its queue holds it while it waits.</summary>
    public QueuedJob Entry() =>
        new(Id, Job.Spec!.Priority, Job.CreatedAt, Job.ExpiresAt, Job.Spec.ExcludedWorkers, Job.Spec.Requester, Job.Spec.Requirements, Job.Spec.Trust == JobTrust.Trusted);

    /// <summary>Throws unless a job was submitted under this id.</summary>
    /// <exception cref="KeyNotFoundException">No job was submitted under this id.</exception>
    public void Require()
    {
        if (!Exists)
            throw new KeyNotFoundException($"no job with id {Id}");
    }

    /// <summary>The job as its requester sees it: an input's secrets (<see cref="ISecretJobInput"/>) are left out.</summary>
    /// <exception cref="KeyNotFoundException">No job was submitted under this id.</exception>
    public JobView View()
    {
        Require();
        var spec = Job.Spec! is { Input: ISecretJobInput secret } withSecrets ? withSecrets with { Input = secret.WithoutSecrets() } : Job.Spec!;
        return new JobView(Id, spec, Job.Status, Job.StatusMessage, Job.CreatedAt, Job.UpdatedAt, Job.Attempts.ToList(), Job.Progress, Job.Result,
            Job.WebhookAttempts.ToList(), Job.Artifacts.ToList(), Job.Checkpoint);
    }
}
