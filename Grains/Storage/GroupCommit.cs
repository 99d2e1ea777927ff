namespace PoolAI.Storage;

/// <summary>
/// Writes a grain's persistent state one write at a time and commits concurrent changes together: a caller that needs
/// its change stored awaits <see cref="WriteAsync"/>, which completes after a write that began after the call; changes
/// made while a write is in flight share the next write, and a write starts only after the calls already queued for the
/// grain have run, so a burst of changes shares one write even when storage answers at once (in memory).
/// <see cref="MarkDirty"/> records a change without asking for a write: it is stored by the next write someone waits
/// for, or by <see cref="Flush"/> (which the owner calls on a timer). So a grain taking N changes costs a few writes, not
/// N — the queue's pages hold its waiting jobs, and writing them per start or release would cost a page per job.
/// <para>A failed write fails the callers waiting for it; the state stays dirty, and the next write (or <see cref="Flush"/>)
/// stores it. A write asked for while a failed one was in flight is still made.</para>
/// </summary>
/// <param name="write">One write of everything unstored; called on the grain's scheduler, one call at a time. It must
/// take what it stores before its first await (calls that interleave with a write change the live state, never what is
/// being written).</param>
public class GroupCommit(Func<Task> write)
{
    private bool _running;
    private TaskCompletionSource? _next;
    private bool _dirty;

    /// <summary>True when a change has not been stored yet.</summary>
    public bool IsDirty => _dirty || _next is not null;

    /// <summary>Stores the current state; completes after a write that began after this call.</summary>
    public Task WriteAsync()
    {
        _dirty = true;
        if (_running)
        {
            _next ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            return _next.Task;
        }

        var waiters = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _running = true;
        _ = RunAsync(waiters);
        return waiters.Task;
    }

    /// <summary>Records a change to store with the next write (see the remarks); starts none.</summary>
    public void MarkDirty() => _dirty = true;

    /// <summary>Writes if something is unstored (a change marked dirty, or a failed write), without waiting.</summary>
    public void Flush()
    {
        if (_dirty && !_running)
            WriteAsync().Ignore();
    }

    /// <summary>Writes for <paramref name="waiters"/>, then for whoever asked meanwhile, until nobody waits.</summary>
    private async Task RunAsync(TaskCompletionSource waiters)
    {
        while (true)
        {
            TaskCompletionSource? joined = null;
            try
            {
                // Let the calls already queued for the grain make their changes first, so that they share this write;
                // whoever asked while we yielded is stored by this write, not the next.
                await Task.Yield();
                joined = _next;
                _next = null;
                _dirty = false;
                await write();
                waiters.TrySetResult();
                joined?.TrySetResult();
            }
            catch (Exception ex)
            {
                _dirty = true;
                waiters.TrySetException(ex);
                joined?.TrySetException(ex);
            }

            if (_next is not { } next)
            {
                _running = false;
                return;
            }

            _next = null;
            waiters = next;
        }
    }
}

/// <summary>A <see cref="GroupCommit"/> of one grain state.</summary>
/// <param name="state">The state to write.</param>
/// <param name="beforeWrite">Called on the grain's scheduler just before each write, to copy in-memory indexes into the state.</param>
public sealed class GroupCommit<T>(IPersistentState<T> state, Action? beforeWrite = null) : GroupCommit(() =>
{
    beforeWrite?.Invoke();
    return state.WriteStateAsync();
});
