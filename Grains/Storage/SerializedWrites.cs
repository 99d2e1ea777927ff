namespace PoolAI.Storage;

/// <summary>
/// Writes a grain's persistent state one write at a time. A grain whose background work (an
/// attempt, a dispatch loop) interleaves with its calls could otherwise start a second write while
/// the first is in flight, and the second would fail its ETag check.
/// </summary>
public sealed class SerializedWrites<T>(IPersistentState<T> state)
{
    private readonly SemaphoreSlim _gate = new(1, 1);

    /// <summary>Writes the current state after any write already in flight.</summary>
    public async Task WriteAsync()
    {
        await _gate.WaitAsync();
        try
        {
            await state.WriteStateAsync();
        }
        finally
        {
            _gate.Release();
        }
    }
}
