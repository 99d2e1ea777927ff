namespace PoolAI.Jobs;

/// <summary>
/// The lease of a job's running attempt, as its job grain holds it. This is what happens when a lease expires:
/// <list type="number">
/// <item>The silo running the attempt renews the lease every <see cref="JobOptions.LeaseInterval"/> (1 s) from the
/// moment it takes the work, model loading included (<c>IExecutionSink.RenewLeaseAsync</c>); each renewal is
/// <see cref="Renew"/>. A renewal the job refuses (the attempt was requeued, cancelled, expired or finished) makes the
/// silo stop the work at once.</item>
/// <item>The job checks the lease every lease interval (a grain timer). When no renewal came for
/// <see cref="JobOptions.LeaseTimeout"/> (5 s) — the miner was killed, hung or cut off — <see cref="HasExpired"/> says
/// so once, and the job cancels its wait for the attempt.</item>
/// <item>The attempt then ends with the reason <see cref="Reason"/> (<c>lease expired: …</c>), which counts against the
/// job's attempts (<see cref="JobStateMachine.FailAttempt"/>): the job goes back to its queue while attempts remain
/// (<see cref="JobOptions.MaxAttempts"/>, 3), and ends <c>Failed</c> with every attempt's reason after that.</item>
/// <item>The silo is suspected (<c>WorkerAvailability.Suspect</c>): no new work goes there for 30 s unless it renews a
/// lease first, and the attempt's failure resets its worker's streak (no pay).</item>
/// </list>
/// A broken connection to the silo (<c>SiloUnavailableException</c>) ends the attempt the same way without waiting for
/// the timeout. Not thread-safe: the job grain's turns use it one at a time.
/// </summary>
public sealed class JobLease(TimeProvider time, TimeSpan timeout)
{
    private DateTimeOffset _renewedAt;
    private int _expiredAttempt;

    /// <summary>Starts the lease of a new attempt, as if just renewed.</summary>
    public void Start() => _renewedAt = time.GetUtcNow();

    /// <summary>A renewal from the silo running the current attempt.</summary>
    public void Renew() => _renewedAt = time.GetUtcNow();

    /// <summary>True, once per attempt, when the lease of <paramref name="attempt"/> has gone unrenewed for longer than the timeout.</summary>
    public bool HasExpired(int attempt)
    {
        if (_expiredAttempt == attempt || time.GetUtcNow() - _renewedAt <= timeout)
            return false;
        _expiredAttempt = attempt;
        return true;
    }

    /// <summary>True when <see cref="HasExpired"/> said so for <paramref name="attempt"/>.</summary>
    public bool ExpiredFor(int attempt) => _expiredAttempt == attempt;

    /// <summary>The attempt's end reason when its lease expired on <paramref name="silo"/>.</summary>
    public string Reason(string silo) => $"lease expired: {silo} did not renew it for {timeout.TotalSeconds:0.#} s";
}
