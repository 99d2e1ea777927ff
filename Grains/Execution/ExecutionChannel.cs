using System.Diagnostics;
using System.Text;
using PoolAI.Artifacts;
using PoolAI.Jobs;

namespace PoolAI.Execution;

/// <summary>
/// One attempt on the executing silo, between the executor and the job that holds the lease: it gathers streamed text
/// and progress and sends them to the job at most every chunk interval (the first at once, the last when the attempt
/// ends), one update after another in the background, and stores artifacts and checkpoints. Thread-safe: an executor
/// may write from any thread (the text executor writes from the model's batching thread), and writing never blocks on
/// the network.
/// </summary>
public sealed class ExecutionChannel : IDisposable
{
    private readonly Lock _gate = new();
    private readonly IGrainFactory _grains;
    private readonly TimeSpan _interval;
    private readonly StringBuilder _pending = new();
    private readonly ITimer _flushTimer;
    private int _pendingOffset;
    private int _written;
    private JobProgress? _progress;
    private bool _progressChanged;
    private long _lastSent;
    private bool _flushScheduled;
    private Task _sent = Task.CompletedTask;

    internal ExecutionChannel(ExecutionRequest request, string silo, IGrainFactory grains, TimeSpan chunkInterval)
    {
        Request = request;
        Silo = silo;
        _grains = grains;
        _interval = chunkInterval;
        _flushTimer = TimeProvider.System.CreateTimer(_ => Flush(), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    /// <summary>The attempt's request.</summary>
    public ExecutionRequest Request { get; }

    /// <summary>This silo's address, as <see cref="SiloAddress.ToString"/> writes it.</summary>
    public string Silo { get; }

    /// <summary>The last progress reported; null before any.</summary>
    public JobProgress? Progress
    {
        get
        {
            lock (_gate)
                return _progress;
        }
    }

    /// <summary>Characters of streamed text written so far.</summary>
    public int Written
    {
        get
        {
            lock (_gate)
                return _written;
        }
    }

    /// <summary>The work's own time when the executor measured it (see <see cref="JobExecution{TInput}.Elapsed"/>).</summary>
    public TimeSpan? Elapsed { get; set; }

    /// <summary>Mean number of jobs that shared the work's compute (see <see cref="JobExecution{TInput}.Concurrency"/>).</summary>
    public double Concurrency { get; set; } = 1;

    /// <summary>Appends <paramref name="text"/> to the attempt's streamed output, with <paramref name="progress"/> as its latest progress when given (both reach the job in the same update).</summary>
    public void Write(string text, JobProgress? progress = null)
    {
        lock (_gate)
        {
            if (!string.IsNullOrEmpty(text))
            {
                if (_pending.Length == 0)
                    _pendingOffset = _written;
                _pending.Append(text);
                _written += text.Length;
            }

            if (progress is not null)
            {
                _progress = progress;
                _progressChanged = true;
            }

            SendOrSchedule();
        }
    }

    /// <summary>Records <paramref name="progress"/> as the attempt's latest.</summary>
    public void Report(JobProgress progress)
    {
        ArgumentNullException.ThrowIfNull(progress);
        lock (_gate)
        {
            _progress = progress;
            _progressChanged = true;
            SendOrSchedule();
        }
    }

    /// <summary>Completes when every update sent so far has reached the job (or failed to); never throws.</summary>
    public Task SentAsync()
    {
        lock (_gate)
            return _sent;
    }

    /// <summary>Sends whatever is held now.</summary>
    public void Flush()
    {
        lock (_gate)
        {
            _flushScheduled = false;
            Send();
        }
    }

    /// <summary>Stores <paramref name="content"/> as an artifact and adds it to the job's artifacts.</summary>
    /// <exception cref="OperationCanceledException">The attempt is no longer the job's current one.</exception>
    public async Task<ArtifactRef> StoreArtifactAsync(Stream content, string mediaType, string name, CancellationToken cancellationToken)
    {
        var artifact = await ArtifactTransfer.UploadAsync(_grains, content, mediaType, name, cancellationToken);
        if (Request.Sink is { } sink && !await sink.AddArtifactAsync(Request.Attempt, artifact))
            throw new OperationCanceledException($"attempt {Request.Attempt} of job {Request.JobId} is no longer current; its artifact was not recorded");
        return artifact;
    }

    /// <summary>Stores <paramref name="content"/> as the job's latest checkpoint, taken at progress step <paramref name="step"/>.</summary>
    /// <exception cref="OperationCanceledException">The attempt is no longer the job's current one.</exception>
    public async Task<JobCheckpoint> CheckpointAsync(Stream content, long step, string name, CancellationToken cancellationToken)
    {
        var artifact = await ArtifactTransfer.UploadAsync(_grains, content, "application/octet-stream", name, cancellationToken);
        var checkpoint = new JobCheckpoint(artifact, step, Request.Attempt, DateTimeOffset.UtcNow);
        if (Request.Sink is { } sink && !await sink.CheckpointAsync(Request.Attempt, checkpoint))
            throw new OperationCanceledException($"attempt {Request.Attempt} of job {Request.JobId} is no longer current; its checkpoint was not recorded");
        return checkpoint;
    }

    /// <summary>Writes an artifact's content (a checkpoint to resume from, an input file) to <paramref name="destination"/>.</summary>
    /// <exception cref="KeyNotFoundException">The store does not hold it.</exception>
    public Task ReadArtifactAsync(ArtifactRef artifact, Stream destination, CancellationToken cancellationToken) =>
        ArtifactTransfer.CopyToAsync(_grains, artifact, destination, cancellationToken);

    /// <inheritdoc />
    public void Dispose() => _flushTimer.Dispose();

    /// <summary>Sends <paramref name="update"/> once <paramref name="previous"/> has been sent, so updates reach the job in order.</summary>
    private static async Task SendAfterAsync(Task previous, IExecutionSink sink, ExecutionUpdate update)
    {
        await previous;
        try
        {
            await sink.OnUpdateAsync(update);
        }
        catch (Exception)
        {
            // Lost on the way (the coordinator restarting, say): the result and the lease carry what matters.
        }
    }

    private void SendOrSchedule()
    {
        if (_lastSent == 0 || Stopwatch.GetElapsedTime(_lastSent) >= _interval)
        {
            Send();
        }
        else if (!_flushScheduled)
        {
            _flushScheduled = true;
            _flushTimer.Change(_interval - Stopwatch.GetElapsedTime(_lastSent), Timeout.InfiniteTimeSpan);
        }
    }

    private void Send()
    {
        if (Request.Sink is not { } sink || (_pending.Length == 0 && !_progressChanged))
            return;
        _sent = SendAfterAsync(_sent, sink, new ExecutionUpdate(Request.Attempt, _pendingOffset, _pending.ToString(), _progressChanged ? _progress : null, Silo));
        _pending.Clear();
        _progressChanged = false;
        _lastSent = Stopwatch.GetTimestamp();
    }
}
