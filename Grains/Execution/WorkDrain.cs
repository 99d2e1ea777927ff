namespace PoolAI.Execution;

/// <summary>
/// Counts the job attempts running on this silo so that a miner stopping gracefully can finish them or hand them back.
/// <see cref="DrainAsync"/> refuses new attempts, waits for the running ones up to a timeout, then cancels the rest
/// through <see cref="HandBack"/>; the executor grain turns that cancellation into a
/// <see cref="WorkHandedBackException"/>, and the job goes back to the queue without losing an attempt. It also knows
/// which attempts run (<see cref="Attempts"/>), for a drain that waits for them from outside the silo.
/// </summary>
public sealed class WorkDrain : IDisposable
{
    private readonly CancellationTokenSource _handBack = new();
    private readonly object _gate = new();
    private readonly Dictionary<long, Workers.RunningAttempt> _attempts = [];
    private long _nextEntry;
    private TaskCompletionSource _idle = NewIdle(completed: true);
    private int _running;
    private bool _draining;

    /// <summary>Cancelled when the silo gives back what it still runs.</summary>
    public CancellationToken HandBack => _handBack.Token;

    /// <summary>Attempts running now.</summary>
    public int Running
    {
        get
        {
            lock (_gate)
                return _running;
        }
    }

    /// <summary>The attempts registered with what they run, oldest first.</summary>
    public IReadOnlyList<Workers.RunningAttempt> Attempts
    {
        get
        {
            lock (_gate)
                return [.. _attempts.OrderBy(a => a.Key).Select(a => a.Value)];
        }
    }

    /// <summary>Registers an attempt (<paramref name="attempt"/> says what it runs, null when unknown); dispose the result when it ends.</summary>
    /// <exception cref="WorkHandedBackException">The silo is draining and takes no new attempt.</exception>
    public IDisposable Enter(string silo, Workers.RunningAttempt? attempt = null)
    {
        long entry;
        lock (_gate)
        {
            if (_draining)
                throw new WorkHandedBackException(silo);
            if (_running++ == 0)
                _idle = NewIdle(completed: false);
            entry = ++_nextEntry;
            if (attempt is not null)
                _attempts[entry] = attempt;
        }

        return new Registration(this, entry);
    }

    /// <summary>
    /// Stops taking attempts, waits up to <paramref name="timeout"/> for the running ones to finish, then hands back
    /// the rest and waits up to <paramref name="handBackTimeout"/> for them to report it. Returns how many were handed back.
    /// </summary>
    public async Task<int> DrainAsync(TimeSpan timeout, TimeSpan handBackTimeout)
    {
        Task idle;
        lock (_gate)
        {
            _draining = true;
            idle = _idle.Task;
        }

        await Task.WhenAny(idle, Task.Delay(timeout));
        var left = Running;
        if (left == 0)
            return 0;
        await _handBack.CancelAsync();
        await Task.WhenAny(idle, Task.Delay(handBackTimeout));
        return left;
    }

    /// <inheritdoc />
    public void Dispose() => _handBack.Dispose();

    private static TaskCompletionSource NewIdle(bool completed)
    {
        var idle = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (completed)
            idle.SetResult();
        return idle;
    }

    private void Exit(long entry)
    {
        lock (_gate)
        {
            _attempts.Remove(entry);
            if (--_running == 0)
                _idle.TrySetResult();
        }
    }

    private sealed class Registration(WorkDrain drain, long entry) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
                drain.Exit(entry);
        }
    }
}
