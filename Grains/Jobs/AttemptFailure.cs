using PoolAI.Execution;

namespace PoolAI.Jobs;

/// <summary>
/// Why an attempt failed and what follows, decided from how it ended: the reason recorded with the attempt, whether
/// the job may try again, whether the silo is kept out of placement for a while, and whether the worker is blamed
/// (its streak reset).
/// </summary>
/// <param name="Reason">Recorded as the attempt's outcome and, when the job fails, in its message.</param>
/// <param name="Retryable">The job goes back to its queue while attempts remain; false ends it <c>Failed</c> at once.</param>
/// <param name="SuspectSilo">Keep the silo out of placement for a while: it did not renew its lease, or became unreachable.</param>
/// <param name="BlameWorker">The worker broke the attempt: its ledger records a failure. Bad input is not its fault.</param>
public sealed record AttemptFailure(string Reason, bool Retryable, bool SuspectSilo, bool BlameWorker)
{
    /// <summary>The failure of an attempt on <paramref name="silo"/> that ended with <paramref name="error"/>, or whose lease expired first.</summary>
    /// <param name="error">What the call to the executor threw (after a lease expiry, the cancellation of the wait).</param>
    /// <param name="leaseExpired">The job cancelled its wait because the lease expired (<see cref="JobLease.HasExpired"/>).</param>
    /// <param name="lease">The lease, for its reason.</param>
    /// <param name="target">The job's model or task.</param>
    /// <param name="silo">Where the attempt ran.</param>
    public static AttemptFailure Of(Exception error, bool leaseExpired, JobLease lease, string target, string silo) => leaseExpired
        ? new(lease.Reason(silo), Retryable: true, SuspectSilo: true, BlameWorker: true)
        : error switch
        {
            JobValidationException validation => new(validation.Message, Retryable: false, SuspectSilo: false, BlameWorker: false),
            SiloUnavailableException when Miners.OpenMiners.TryWorkerOf(silo, out _) => new($"silo lost: {error.Message}", true, true, true),
            // An open miner whose result broke the kind's rules gets no new work for a while, so the retry runs elsewhere.
            Miners.MinerResultRefusedException => new(error.Message, Retryable: true, SuspectSilo: true, BlameWorker: true),
            _ when Miners.OpenMiners.TryWorkerOf(silo, out _) && error is InvalidOperationException => new(error.Message, true, false, true),
            SiloUnavailableException => new($"silo lost: {silo} became unavailable (killed, crashed or cut off)", true, true, true),
            OrleansException when error.Message.Contains("No active nodes are compatible", StringComparison.Ordinal) =>
                new($"silo lost: {silo} no longer runs {target}", true, false, true),
            TimeoutException => new($"timed out: {error.Message}", true, false, true),
            _ => new($"{error.GetType().Name}: {error.Message}", true, false, true),
        };

    /// <summary>True when <paramref name="error"/> (or a hand-back the silo announced) means the silo gave the attempt back while shutting down.</summary>
    public static bool IsHandBack(Exception error, bool announced) => error is WorkHandedBackException || announced;
}
