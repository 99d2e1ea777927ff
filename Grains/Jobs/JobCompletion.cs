namespace PoolAI.Jobs;

/// <summary>Those waiting for a job to reach a final state, in its grain's activation.</summary>
internal sealed class JobCompletion(TimeProvider time)
{
    private readonly TaskCompletionSource _finished = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Callers waiting now.</summary>
    public int Waiting { get; private set; }

    /// <summary>The job reached a final state: answers every waiter.</summary>
    public void Finished() => _finished.TrySetResult();

    /// <summary>Completes when the job is final or after <paramref name="timeout"/>, whichever comes first; never throws for the timeout.</summary>
    public async Task WaitAsync(TimeSpan timeout)
    {
        Waiting++;
        try
        {
            // WaitAsync drops its timer when the job finishes first (Task.Delay's would live out the timeout).
            await _finished.Task.WaitAsync(timeout, time).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing | ConfigureAwaitOptions.ContinueOnCapturedContext);
        }
        finally
        {
            Waiting--;
        }
    }
}
