using System.Collections.Concurrent;
using PoolAI.Jobs;
using PoolAI.Decoding;
using TorchSharp;

namespace PoolAI.Models;

/// <summary>
/// Continuous batching for one model (Orca, Yu et al., OSDI 2022: scheduling at the granularity of one decoding step).
/// Concurrent requests share forward passes: one thread admits waiting requests between steps (each prefilled on its own),
/// then runs one decode pass for every sequence in the batch, each at its own position in its own cache row and sampled
/// with its own settings and seed; a sequence leaves as soon as it finishes, fails or is cancelled, and a waiting one
/// takes its row at the next step. A request gives exactly the tokens <see cref="TextGenerator.Generate"/> gives
/// alone, because both run the same loop (<see cref="SequenceBatch"/>) and the decoder computes each row the same way
/// whatever else the pass holds (<see cref="NativeDecoder"/>).
/// At most <see cref="MaxBatch"/> sequences run at once; the rest wait their turn in arrival order.
/// </summary>
public sealed class ContinuousBatcher : IDisposable
{
    /// <summary>Default of <see cref="MaxBatch"/>: a decoding pass of 16 sequences of the shipped model costs the native decoder about 4 to 10 times one of a single sequence on a 2-core CPU (more as their contexts grow), for 16 times the tokens.</summary>
    public const int DefaultMaxBatch = 16;

    private readonly ConcurrentQueue<Request> _waiting = new();
    private readonly SemaphoreSlim _wake = new(0);
    private readonly CancellationTokenSource _stopping = new();
    private readonly SequenceBatch _batch;
    private readonly Thread _loop;
    private readonly Lock _admission = new();
    private volatile bool _retiring;
    private bool _closed;
    private int _largestBatch;

    /// <summary>Starts the batching thread for <paramref name="model"/>.</summary>
    /// <param name="model">The model to run.</param>
    /// <param name="maxBatch">Most sequences in one decode pass.</param>
    /// <param name="backend">The arithmetic; the native decoder unless the model must run through libtorch (a GPU).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxBatch"/> is not positive, or no such backend.</exception>
    public ContinuousBatcher(LoadedModel model, int maxBatch = DefaultMaxBatch, DecodeBackend backend = DecodeBackend.Native)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBatch, 1);
        Model = model;
        MaxBatch = maxBatch;
        _batch = new SequenceBatch(model, maxBatch, backend);
        _loop = new Thread(Run) { IsBackground = true, Name = $"poolai-batching-{model.Config.Id}" };
        _loop.Start();
    }

    /// <summary>The model it runs.</summary>
    public LoadedModel Model { get; }

    /// <summary>Most sequences in one decode pass.</summary>
    public int MaxBatch { get; }

    /// <summary>The arithmetic version of its decoder (<see cref="DecodeEngine.VersionOf"/>): the same text for the same request while it stays the same.</summary>
    public string DecodeVersion => _batch.DecodeVersion;

    /// <summary>What it has done so far.</summary>
    public BatchingStatistics Statistics => new(_batch.DecodePasses, _batch.DecodedRows, Volatile.Read(ref _largestBatch));

    /// <summary>Generates text for <paramref name="settings"/> in the shared batch; the same text as <see cref="TextGenerator.Generate"/>.</summary>
    /// <param name="settings">Validated settings (see <see cref="JobSpecRules"/>).</param>
    /// <param name="onText">As for <see cref="TextGenerator.Generate"/>; called on the batching thread, so it must be quick and must not block.</param>
    /// <param name="cancellationToken">A waiting request ends at once; a running one leaves the batch at the next step.</param>
    /// <exception cref="JobValidationException">The prompt has characters the tokenizer cannot encode.</exception>
    /// <exception cref="OperationCanceledException">Cancelled.</exception>
    /// <exception cref="ObjectDisposedException">The batcher stopped before the request ended, or had retired (<see cref="IsRetired"/>) and closed before it was asked.</exception>
    public Task<GenerationOutcome> GenerateAsync(GenerationSettings settings, Action<int, string, int>? onText = null, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_stopping.IsCancellationRequested, this);
        var request = new Request(new GenerationSequence(Model, settings, onText, cancellationToken));
        if (cancellationToken.CanBeCanceled)
            request.Registration = cancellationToken.Register(() => request.CancelIfWaiting(cancellationToken));
        lock (_admission)
        {
            if (_closed)
            {
                request.Registration.Dispose();
                throw new ObjectDisposedException(nameof(ContinuousBatcher), "the model's batcher retired: newer weights replaced it");
            }

            _waiting.Enqueue(request);
        }

        _wake.Release();
        return request.Completion.Task;
    }

    /// <summary>True once <see cref="Retire"/> was called.</summary>
    public bool IsRetired => _retiring;

    /// <summary>True once a retired batcher had nothing left to run and closed: it refuses requests, and its thread frees the model as it ends.</summary>
    public bool IsClosed
    {
        get
        {
            lock (_admission)
                return _closed;
        }
    }

    /// <summary>
    /// Retires the batcher (its model's weights were replaced): requests already waiting or running finish as usual;
    /// once none is left the batching thread closes the batcher, frees the model and ends, and later requests get
    /// <see cref="ObjectDisposedException"/> (the caller asks <c>ModelHost</c> for the current batcher again).
    /// </summary>
    public void Retire()
    {
        _retiring = true;
        if (!_stopping.IsCancellationRequested)
            _wake.Release();
    }

    /// <summary>Stops the thread; requests still waiting or running end with <see cref="ObjectDisposedException"/>.</summary>
    public void Dispose()
    {
        if (_stopping.IsCancellationRequested)
            return;
        _stopping.Cancel();
        _loop.Join();
        bool closed;
        lock (_admission)
            closed = _closed;
        if (!closed)
            _batch.Dispose(); // a retired batcher's thread released it when it closed
        _stopping.Dispose();
        _wake.Dispose();
    }

    private void Run()
    {
        using var noGrad = torch.no_grad();
        var running = new Dictionary<GenerationSequence, Request>(ReferenceEqualityComparer.Instance);
        while (!_stopping.IsCancellationRequested)
        {
            try
            {
                if (running.Count == 0 && _waiting.IsEmpty)
                {
                    if (_retiring && TryClose())
                        break;
                    _wake.Wait(_stopping.Token);
                }
                Admit(running);
                if (running.Count == 0)
                    continue;
                if (running.Count > _largestBatch)
                    Volatile.Write(ref _largestBatch, running.Count);
                foreach (var sequence in _batch.Step())
                    End(running, sequence);
            }
            catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
            {
                break;
            }
            catch (Exception error)
            {
                // A fault outside any one sequence's handling: end everything that runs, keep serving.
                EndAll(running, error);
            }
        }

        var stopped = new ObjectDisposedException(nameof(ContinuousBatcher), "the model's batching stopped before the request ended");
        EndAll(running, stopped);
        while (_waiting.TryDequeue(out var request))
            request.Completion.TrySetException(stopped);
        bool closed;
        lock (_admission)
            closed = _closed;
        if (closed)
        {
            // Retired and idle: nothing can reach this batcher any more, so its cache rows and the model go now.
            _batch.Dispose();
            Model.Dispose();
        }
    }

    /// <summary>Closes a retiring batcher to new requests if none is waiting; false when one slipped in (it runs first).</summary>
    private bool TryClose()
    {
        lock (_admission)
        {
            if (!_waiting.IsEmpty)
                return false;
            _closed = true;
            return true;
        }
    }

    private void EndAll(Dictionary<GenerationSequence, Request> running, Exception error)
    {
        _batch.Abandon(error);
        foreach (var request in running.Values)
        {
            request.Sequence.Fail(error);
            request.Finish();
        }

        running.Clear();
    }

    private void Admit(Dictionary<GenerationSequence, Request> running)
    {
        while (_batch.Count < _batch.Capacity && _waiting.TryDequeue(out var request))
        {
            if (!request.TryStart())
                continue;
            try
            {
                _batch.Admit(request.Sequence);
                running.Add(request.Sequence, request);
            }
            catch (Exception error)
            {
                request.Sequence.Fail(error);
                request.Finish();
            }
        }
    }

    private static void End(Dictionary<GenerationSequence, Request> running, GenerationSequence sequence)
    {
        if (running.Remove(sequence, out var request))
            request.Finish();
    }

    /// <summary>A request and its caller's task; it is cancelled at once while it waits, by the batching thread once it runs.</summary>
    private sealed class Request(GenerationSequence sequence)
    {
        private const int Waiting = 0;
        private const int Started = 1;
        private const int Cancelled = 2;
        private int _state;

        public GenerationSequence Sequence { get; } = sequence;

        public TaskCompletionSource<GenerationOutcome> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public CancellationTokenRegistration Registration { get; set; }

        public bool TryStart() => Interlocked.CompareExchange(ref _state, Started, Waiting) == Waiting;

        public void CancelIfWaiting(CancellationToken token)
        {
            if (Interlocked.CompareExchange(ref _state, Cancelled, Waiting) == Waiting)
                Completion.TrySetCanceled(token);
        }

        public void Finish()
        {
            Registration.Dispose();
            try
            {
                Completion.TrySetResult(Sequence.Result());
            }
            catch (OperationCanceledException cancelled)
            {
                Completion.TrySetCanceled(cancelled.CancellationToken);
            }
            catch (Exception error)
            {
                Completion.TrySetException(error);
            }
        }
    }
}

/// <summary>What a <see cref="ContinuousBatcher"/> has done.</summary>
/// <param name="DecodePasses">Decode passes run (each computes one token of every sequence in the batch).</param>
/// <param name="DecodedTokens">Sequence tokens those passes computed; over <paramref name="DecodePasses"/>, the mean batch.</param>
/// <param name="LargestBatch">Most sequences that ran at once.</param>
public sealed record BatchingStatistics(long DecodePasses, long DecodedTokens, int LargestBatch);
