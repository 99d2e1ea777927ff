namespace PoolAI.Rewards;

/// <summary>A reward ledger's persisted state (state name <c>ledger</c> in the <c>pool</c> storage).</summary>
[GenerateSerializer, Alias("poolai.LedgerState")]
public sealed class LedgerState
{
    /// <summary>Every entry, in sequence order; never edited or removed.</summary>
    [Id(0)] public List<RewardEntry> Entries { get; set; } = [];

    /// <summary>Sum of <see cref="Entries"/>' totals.</summary>
    [Id(1)] public decimal Balance { get; set; }

    /// <summary>Consecutive successes since the last failure or failed verification.</summary>
    [Id(2)] public int Streak { get; set; }

    /// <summary>Verification-earned quality factor.</summary>
    [Id(3)] public double Quality { get; set; } = 1.0;

    /// <summary>Failed attempts recorded, as <c>job/attempt</c>, so a repeated report counts once.</summary>
    [Id(4)] public HashSet<string> Failures { get; set; } = [];

    /// <summary>Jobs whose verification outcome is recorded, with whether it passed.</summary>
    [Id(5)] public Dictionary<Guid, bool> Verifications { get; set; } = [];

    /// <summary>Reasons for distrust, oldest first.</summary>
    [Id(6)] public List<Suspicion> Suspicions { get; set; } = [];

    /// <summary>Suspicion count at which the ledger last paused its worker (0: never).</summary>
    [Id(7)] public int PausedAtSuspicions { get; set; }

    /// <summary>Sequence of the last entry known to be on the rewards stream.</summary>
    [Id(8)] public long Published { get; set; }
}
