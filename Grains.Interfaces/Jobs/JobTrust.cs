namespace PoolAI.Jobs;

/// <summary>
/// Which machines may run a job. Open miners are machines the pool does not trust (anyone with a miner key): they see
/// the input of each job they are leased, and their results are checked but not taken on faith. A developer whose
/// prompt must not leave the operator's machines marks the job <see cref="Trusted"/>.
/// </summary>
public enum JobTrust
{
    /// <summary>Any serving silo or open miner may run it.</summary>
    Open,

    /// <summary>Only trusted silos (the cluster's own members) may run it; it never reaches an open miner.</summary>
    Trusted,
}
