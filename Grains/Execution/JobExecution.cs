using PoolAI.Jobs;

namespace PoolAI.Execution;

/// <summary>
/// What an executor sees of the attempt it runs: the job's input and target, where a resumed attempt starts, and the
/// means to report progress, stream text, store artifacts and checkpoint. Reports and text are sent to the job in
/// batches (at most every chunk interval), so an executor may call them as often as it likes.
/// </summary>
/// <typeparam name="TInput">The kind's input record.</typeparam>
public sealed class JobExecution<TInput>
    where TInput : class, IJobInput
{
    private readonly ExecutionChannel _channel;

    internal JobExecution(ExecutionChannel channel, TInput input)
    {
        _channel = channel;
        Input = input;
    }

    /// <summary>The job.</summary>
    public Guid JobId => _channel.Request.JobId;

    /// <summary>The attempt number (1 for the first).</summary>
    public int Attempt => _channel.Request.Attempt;

    /// <summary>The job's kind.</summary>
    public JobKind Kind => _channel.Request.Kind;

    /// <summary>What it runs on: the model id, or the task's name.</summary>
    public string Target => _channel.Request.Target;

    /// <summary>The kind's input.</summary>
    public TInput Input { get; }

    /// <summary>This silo's address.</summary>
    public string Silo => _channel.Silo;

    /// <summary>The job's last checkpoint from an earlier attempt, to resume from; null to start from the beginning.</summary>
    public JobCheckpoint? ResumeFrom => _channel.Request.ResumeFrom;

    /// <summary>
    /// The work's own time, when the executor measures it more precisely than the wall time of its
    /// <c>ExecuteAsync</c> (a generation's time from its first forward pass, leaving out its wait for a batch slot);
    /// null to use that wall time. Speed-based rewards divide work units by it.
    /// </summary>
    public TimeSpan? Elapsed
    {
        get => _channel.Elapsed;
        set => _channel.Elapsed = value;
    }

    /// <summary>
    /// Mean number of jobs that shared this one's compute (for text, generations in the same decode passes); 1 when the
    /// executor does not say. Rewards compare the silo's throughput, the job's units per second times this, so a job
    /// that ran alone and one that shared a batch are judged alike.
    /// </summary>
    public double Concurrency
    {
        get => _channel.Concurrency;
        set => _channel.Concurrency = value;
    }

    /// <summary>Reports progress (the latest report wins).</summary>
    public void Report(JobProgress progress) => _channel.Report(progress);

    /// <summary>Reports progress: <paramref name="step"/> of <paramref name="total"/> <paramref name="unit"/>.</summary>
    public void Report(long step, long? total, string unit, string? message = null, IReadOnlyDictionary<string, double>? metrics = null) =>
        _channel.Report(new JobProgress(step, total, unit, message, metrics));

    /// <summary>Appends <paramref name="text"/> to the job's streamed output (what watchers see as it is produced).</summary>
    public void Write(string text) => _channel.Write(text);

    /// <summary>Appends <paramref name="text"/> to the job's streamed output and reports <paramref name="progress"/> with it, so watchers see both together.</summary>
    public void Write(string text, JobProgress progress) => _channel.Write(text, progress);

    /// <summary>Stores a file the job produced as an artifact of the job (content-addressed; see <see cref="ArtifactRef"/>).</summary>
    /// <exception cref="OperationCanceledException">The attempt is no longer the job's current one.</exception>
    public Task<ArtifactRef> StoreArtifactAsync(Stream content, string mediaType, string name, CancellationToken cancellationToken = default) =>
        _channel.StoreArtifactAsync(content, mediaType, name, cancellationToken);

    /// <summary>Stores a file the job produced as an artifact of the job.</summary>
    /// <exception cref="OperationCanceledException">The attempt is no longer the job's current one.</exception>
    public async Task<ArtifactRef> StoreArtifactAsync(ReadOnlyMemory<byte> content, string mediaType, string name, CancellationToken cancellationToken = default)
    {
        await using var stream = new MemoryStream(content.ToArray(), writable: false);
        return await _channel.StoreArtifactAsync(stream, mediaType, name, cancellationToken);
    }

    /// <summary>
    /// Stores <paramref name="content"/> as the job's latest checkpoint, taken at progress step <paramref name="step"/>:
    /// a later attempt (after a requeue) gets it as <see cref="ResumeFrom"/>, and a cancelled job keeps it.
    /// </summary>
    /// <exception cref="OperationCanceledException">The attempt is no longer the job's current one.</exception>
    public Task<JobCheckpoint> CheckpointAsync(Stream content, long step, string name = "checkpoint.bin", CancellationToken cancellationToken = default) =>
        _channel.CheckpointAsync(content, step, name, cancellationToken);

    /// <summary>Reads an artifact (the checkpoint in <see cref="ResumeFrom"/>, say) into memory.</summary>
    /// <exception cref="KeyNotFoundException">The store does not hold it.</exception>
    public async Task<byte[]> ReadArtifactAsync(ArtifactRef artifact, CancellationToken cancellationToken = default)
    {
        using var memory = new MemoryStream();
        await _channel.ReadArtifactAsync(artifact, memory, cancellationToken);
        return memory.ToArray();
    }
}
