using PoolAI.Jobs;

namespace PoolAI.Rewards;

/// <summary>
/// A worker's reward ledger, keyed by worker id: append-only entries, one credit per job at most; corrections are new
/// negative entries. The balance always equals the sum of the entries. Every new entry is published on the
/// <see cref="PoolStreams.Rewards"/> stream.
/// </summary>
[Alias("poolai.IRewardLedgerGrain")]
public interface IRewardLedgerGrain : IGrainWithStringKey
{
    /// <summary>
    /// Pays for one successful job, with the worker's current quality factor and streak; extends the streak. A second
    /// credit for the same job is refused and returns the first entry unchanged. Throughput beyond what the worker's
    /// device class plausibly does adds a suspicion and pays no speed bonus.
    /// </summary>
    /// <exception cref="ArgumentException">Work units not positive, or throughput negative or not finite; the message names the field.</exception>
    [Alias("Credit")]
    Task<RewardEntry> CreditAsync(CreditRequest request);

    /// <summary>Pays for storage held over one audit period that the worker's store passed; a second credit for the same period returns the first entry.</summary>
    /// <exception cref="ArgumentException">Byte-hours not positive and finite, or a negative rate; the message names the field.</exception>
    [Alias("CreditStorage")]
    Task<RewardEntry> CreditStorageAsync(StorageCredit credit);

    /// <summary>An attempt of <paramref name="jobId"/> broke on this worker: nothing is paid and the streak resets. Idempotent per (job, attempt).</summary>
    [Alias("RecordFailure")]
    Task RecordFailureAsync(Guid jobId, int attempt, string reason);

    /// <summary>
    /// Adds a suspicion that is not a verification: an untrusted miner sent a result that broke its kind's rules, or a
    /// message about a job it was never leased. Resets the streak; at the configured number of suspicions the worker is
    /// paused with the reasons. <paramref name="jobId"/> is <see cref="Guid.Empty"/> when no job of this worker is concerned.
    /// </summary>
    [Alias("RecordSuspicion")]
    Task RecordSuspicionAsync(Guid jobId, string reason);

    /// <summary>
    /// The outcome of verifying this worker's output for <paramref name="jobId"/>. A pass raises the quality factor; a
    /// failure lowers it, resets the streak, corrects the job's credit with a negative entry (returned) and adds a
    /// suspicion; at the configured number of suspicions the worker is paused with the reasons. Idempotent per job.
    /// </summary>
    [Alias("RecordVerification")]
    Task<RewardEntry?> RecordVerificationAsync(Guid jobId, bool passed, string detail);

    /// <summary>An admin's correction of entry <paramref name="sequence"/>: a negative entry taking back <paramref name="amount"/> (null: all that is left of it).</summary>
    /// <exception cref="ArgumentException">No such entry, not a credit, amount not positive or more than is left; the message names the field.</exception>
    [Alias("Correct")]
    Task<RewardEntry> CorrectAsync(long sequence, string reason, decimal? amount = null);

    /// <summary>Balance, streak, trust and statistics.</summary>
    [Alias("GetSummary")]
    Task<RewardSummary> GetSummaryAsync();

    /// <summary>Entries made before <paramref name="before"/> (null: now), newest first, at most <paramref name="limit"/> (1–1000).</summary>
    [Alias("GetHistory")]
    Task<RewardHistoryPage> GetHistoryAsync(DateTimeOffset? before, int limit);

    /// <summary>Entries with a sequence above <paramref name="sequence"/>, oldest first, at most <paramref name="limit"/> (1–1000).</summary>
    [Alias("GetEntriesAfter")]
    Task<IReadOnlyList<RewardEntry>> GetEntriesAfterAsync(long sequence, int limit);
}

/// <summary>
/// The pool's leaderboard (key <see cref="Key"/>), kept from the <see cref="PoolStreams.Rewards"/> stream, never by
/// scanning ledgers. An entry that arrives after a gap in a worker's sequence makes it fetch the missed entries from
/// that worker's ledger, so a lost event is made good by the next one.
/// </summary>
[Alias("poolai.ILeaderboardGrain")]
public interface ILeaderboardGrain : IGrainWithStringKey
{
    /// <summary>The only key; also the key of the rewards stream.</summary>
    public const string Key = "pool";

    /// <summary>The top <paramref name="top"/> (1–1000) workers by net credits in <paramref name="period"/>.</summary>
    [Alias("GetTop")]
    Task<IReadOnlyList<LeaderboardRow>> GetTopAsync(LeaderboardPeriod period, int top);
}

/// <summary>
/// The verification of one job's output (keyed by that job's id): check jobs with the same model, settings and seed
/// run on other workers, and the outputs are compared token for token.
/// </summary>
[Alias("poolai.IVerificationGrain")]
public interface IVerificationGrain : IGrainWithGuidKey
{
    /// <summary>Starts verifying the job's output, made by <paramref name="worker"/>. Idempotent.</summary>
    [Alias("Start")]
    Task StartAsync(JobSpec spec, string worker, string text);

    /// <summary>A check job ended: its worker and output, or null ones when it did not succeed. Idempotent per check job; reports of jobs it did not start are ignored.</summary>
    [Alias("Report")]
    Task ReportAsync(Guid checkJobId, string? worker, string? text);

    /// <summary>Where the verification stands.</summary>
    [Alias("Get")]
    Task<VerificationView> GetAsync();
}

/// <summary>How a verification ended.</summary>
public enum VerificationOutcome
{
    /// <summary>Check jobs are running.</summary>
    Pending = 0,

    /// <summary>Another worker reproduced the output.</summary>
    Passed = 1,

    /// <summary>Two other workers agreed on a different output: the job's worker was wrong.</summary>
    Failed = 2,

    /// <summary>The first check disagreed and the second agreed with the job: the first checker was wrong.</summary>
    CheckerFailed = 3,

    /// <summary>No majority could be formed (no other worker, checks did not finish, or all outputs differ); nobody is penalised.</summary>
    Inconclusive = 4,
}

/// <summary>A verification's state.</summary>
/// <param name="JobId">The verified job.</param>
/// <param name="Worker">The worker whose output is verified.</param>
/// <param name="Outcome">Where it stands.</param>
/// <param name="Checks">Check jobs, in order, each with its worker and whether its output matched the job's.</param>
[GenerateSerializer, Immutable, Alias("poolai.VerificationView")]
public sealed record VerificationView(
    [property: Id(0)] Guid JobId,
    [property: Id(1)] string? Worker,
    [property: Id(2)] VerificationOutcome Outcome,
    [property: Id(3)] IReadOnlyList<VerificationCheck> Checks);

/// <summary>One check job of a verification.</summary>
/// <param name="JobId">The check job.</param>
/// <param name="Worker">Who ran it, once done.</param>
/// <param name="Matches">Whether its output equals the verified job's; null until done or when it did not succeed.</param>
/// <param name="Done">It ended.</param>
[GenerateSerializer, Immutable, Alias("poolai.VerificationCheck")]
public sealed record VerificationCheck(
    [property: Id(0)] Guid JobId,
    [property: Id(1)] string? Worker,
    [property: Id(2)] bool? Matches,
    [property: Id(3)] bool Done);

/// <summary>Stream names of the pool's event streams.</summary>
public static class PoolStreams
{
    /// <summary>The stream provider.</summary>
    public const string Provider = "events";

    /// <summary>Namespace of the reward stream (key <see cref="ILeaderboardGrain.Key"/>): every new <see cref="RewardEntry"/>.</summary>
    public const string Rewards = "rewards";
}
