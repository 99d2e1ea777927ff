namespace PoolAI.Hosting;

/// <summary>A background loop that does one piece of work every interval until it is stopped.</summary>
public static class PeriodicWork
{
    /// <summary>
    /// Runs <paramref name="work"/> every <paramref name="interval"/> (first at once when <paramref name="runAtStart"/>,
    /// else after one interval) until <paramref name="cancellationToken"/> fires; then returns without throwing. A
    /// failure of one run goes to <paramref name="onFailure"/> and the loop goes on.
    /// </summary>
    public static async Task RunAsync(TimeSpan interval, bool runAtStart, Func<Task> work, Action<Exception> onFailure, CancellationToken cancellationToken, TimeProvider? time = null)
    {
        using var timer = new PeriodicTimer(interval, time ?? TimeProvider.System);
        try
        {
            if (!runAtStart && !await timer.WaitForNextTickAsync(cancellationToken))
                return;
            do
            {
                try
                {
                    await work();
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    onFailure(ex);
                }
            }
            while (await timer.WaitForNextTickAsync(cancellationToken));
        }
        catch (OperationCanceledException)
        {
            // Stopped.
        }
    }
}
