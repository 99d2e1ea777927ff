namespace PoolAI.Storage;

/// <summary>
/// Writes a grain's persistent state one write at a time and commits concurrent changes together: a caller that needs
/// its change stored awaits <see cref="WriteAsync"/>, which completes after a write that began after the call; changes
/// made while a write is in flight share the next write. <see cref="MarkDirty"/> asks for a write without waiting for
/// it. So a grain taking N changes while one write is in flight costs two writes, not N — the queue's state holds every
/// waiting job, and writing it per job would make dispatch O(n) per start.
/// <para>A failed write fails the callers waiting for it; the state stays dirty, and the next write (or <see cref="Flush"/>)
/// stores it.</para>
/// </summary>
/// <param name="state">The state to write.</param>
/// <param name="beforeWrite">Called on the grain's scheduler just before each write, to copy in-memory indexes into the state.</param>
public sealed class GroupCommit<T>(IPersistentState<T> state, Action? beforeWrite = null)
{
    private Task? _inFlight;
    private TaskCompletionSource? _next;
    private bool _dirty;

    /// <summary>True when a change has not been stored yet.</summary>
    public bool IsDirty => _dirty || _next is not null;

    /// <summary>Stores the current state; completes after a write that began after this call.</summary>
    public Task WriteAsync()
    {
        _dirty = true;
        if (_inFlight is null)
        {
            var run = RunAsync(null);
            if (!run.IsCompleted)
                _inFlight = run; // it clears the field when it ends
            return run;
        }

        _next ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        return _next.Task;
    }

    /// <summary>Asks for a write of the current state without waiting for it.</summary>
    public void MarkDirty() => WriteAsync().Ignore();

    /// <summary>Writes if something is unstored (e.g. after a failed write), without waiting.</summary>
    public void Flush()
    {
        if (_dirty && _inFlight is null)
            MarkDirty();
    }

    private async Task RunAsync(TaskCompletionSource? waiters)
    {
        while (true)
        {
            try
            {
                _dirty = false;
                beforeWrite?.Invoke();
                await state.WriteStateAsync();
                waiters?.TrySetResult();
            }
            catch (Exception ex)
            {
                _dirty = true;
                if (waiters is null)
                {
                    _inFlight = null;
                    if (_next is { } queued)
                    {
                        _next = null;
                        queued.TrySetException(ex);
                    }

                    throw;
                }

                waiters.TrySetException(ex);
            }

            if (_next is not { } next)
            {
                _inFlight = null;
                return;
            }

            _next = null;
            waiters = next;
        }
    }
}
