using PoolAI.Jobs;

namespace PoolAI.Rewards;

/// <summary>What a ledger entry records.</summary>
public enum RewardEntryKind
{
    /// <summary>Pay for one successful job: <c>Total = BaseAmount × SpeedFactor × QualityFactor × (1 + StreakBonus)</c>.</summary>
    Credit = 0,

    /// <summary>Takes back (part of) an earlier entry, named by <see cref="RewardEntry.Corrects"/>: a verification failed after payment, or an admin's correction. Negative.</summary>
    Correction = 1,

    /// <summary>Pay for shards held over one audit period that the store passed: <c>Total = GB-hours × the rate per GB-hour</c> (<c>PoolAI:Volumes:CreditsPerGbHour</c>); <see cref="RewardEntry.JobId"/> names the (volume, store, period).</summary>
    Storage = 2,
}

/// <summary>
/// One append-only entry of a worker's reward ledger. Amounts are in credits, on AI Horde's kudos scale for text
/// (see <c>RewardFormula</c>), rounded to 6 decimal places.
/// </summary>
/// <param name="Sequence">1 for the worker's first entry, then consecutive; the leaderboard uses it to find missed entries.</param>
/// <param name="Worker">The worker credited.</param>
/// <param name="Kind">Credit or correction.</param>
/// <param name="JobId">The job paid for (for a correction: the job of the corrected entry).</param>
/// <param name="JobKind">What the job did.</param>
/// <param name="Model">The model it ran.</param>
/// <param name="WorkUnits">Units of work: generated tokens for text and code, images × pixels × steps for images, tokens processed for training, items for data processing.</param>
/// <param name="BaseAmount">Work units × the model's base rate, credits.</param>
/// <param name="SpeedFactor">Throughput factor, between the configured bounds (default 0.5–3).</param>
/// <param name="QualityFactor">The worker's verification-earned quality factor when paid.</param>
/// <param name="StreakBonus">Fractional bonus of the worker's streak level (0.02 per level by default).</param>
/// <param name="Total">Credits added to the balance (negative for a correction).</param>
/// <param name="At">When the entry was made.</param>
/// <param name="Corrects">For a correction, the sequence of the entry it corrects.</param>
/// <param name="Reason">For a correction, why.</param>
/// <param name="TokensPerSecond">The silo's throughput while it ran the job, work units (tokens) per second: the job's own
/// rate times the mean number of jobs that shared its compute (a generation in a batch of 16 counts the batch's rate),
/// so lone and batched jobs compare alike; 0 where not measured.</param>
[GenerateSerializer, Immutable, Alias("poolai.RewardEntry")]
public sealed record RewardEntry(
    [property: Id(0)] long Sequence,
    [property: Id(1)] string Worker,
    [property: Id(2)] RewardEntryKind Kind,
    [property: Id(3)] Guid JobId,
    [property: Id(4)] JobKind JobKind,
    [property: Id(5)] string Model,
    [property: Id(6)] long WorkUnits,
    [property: Id(7)] decimal BaseAmount,
    [property: Id(8)] double SpeedFactor,
    [property: Id(9)] double QualityFactor,
    [property: Id(10)] double StreakBonus,
    [property: Id(11)] decimal Total,
    [property: Id(12)] DateTimeOffset At,
    [property: Id(13)] long? Corrects = null,
    [property: Id(14)] string? Reason = null,
    [property: Id(15)] double TokensPerSecond = 0);

/// <summary>What the pool asks a ledger to pay for one successful job.</summary>
/// <param name="JobId">The job; a second credit for it is refused and returns the first entry.</param>
/// <param name="JobKind">What it did.</param>
/// <param name="Model">The model.</param>
/// <param name="ModelParameters">The model's parameter count (sets the base rate).</param>
/// <param name="WorkUnits">Units of work (see <see cref="RewardEntry.WorkUnits"/>); must be positive.</param>
/// <param name="TokensPerSecond">The silo's throughput while it ran the job, work units per second (see
/// <c>JobResult.SiloUnitsPerSecond</c>); 0 when the kind has none.</param>
/// <param name="Device">Device class that ran it (<c>cpu</c>, <c>cuda</c>): speeds are compared within a class.</param>
/// <param name="CompletedAt">When the job succeeded.</param>
/// <param name="RatePerUnit">Credits per work unit, from the job kind's rate (<c>JobKindDescriptor.RatePerUnit</c>); null
/// for the reward formula's rate of <paramref name="JobKind"/>.</param>
[GenerateSerializer, Immutable, Alias("poolai.CreditRequest")]
public sealed record CreditRequest(
    [property: Id(0)] Guid JobId,
    [property: Id(1)] JobKind JobKind,
    [property: Id(2)] string Model,
    [property: Id(3)] long ModelParameters,
    [property: Id(4)] long WorkUnits,
    [property: Id(5)] double TokensPerSecond,
    [property: Id(6)] string Device,
    [property: Id(7)] DateTimeOffset CompletedAt,
    [property: Id(8)] decimal? RatePerUnit = null);

/// <summary>A reason the pool distrusts a worker.</summary>
/// <param name="JobId">The job that raised it.</param>
/// <param name="Reason">What was wrong, e.g. "verification failed: output differs from 2 other workers".</param>
/// <param name="At">When.</param>
[GenerateSerializer, Immutable, Alias("poolai.Suspicion")]
public sealed record Suspicion(
    [property: Id(0)] Guid JobId,
    [property: Id(1)] string Reason,
    [property: Id(2)] DateTimeOffset At);

/// <summary>Pay for storage over one audit period.</summary>
/// <param name="PeriodId">Names the (volume, store, period) paid: a second credit for it is refused and returns the first entry.</param>
/// <param name="Volume">The volume whose shards were held.</param>
/// <param name="ByteHours">Bytes held × hours of the period.</param>
/// <param name="CreditsPerGbHour">Credits per 10⁹ byte-hours.</param>
/// <param name="At">End of the period.</param>
[GenerateSerializer, Immutable, Alias("poolai.StorageCredit")]
public sealed record StorageCredit(
    [property: Id(0)] Guid PeriodId,
    [property: Id(1)] string Volume,
    [property: Id(2)] double ByteHours,
    [property: Id(3)] decimal CreditsPerGbHour,
    [property: Id(4)] DateTimeOffset At);
