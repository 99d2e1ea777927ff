namespace PoolAI.Rewards;

/// <summary>A worker's ledger at a glance: balance, streak with progress to the next level, trust, statistics.</summary>
/// <param name="Worker">The worker.</param>
/// <param name="Balance">Sum of all entries, credits.</param>
/// <param name="Entries">Number of entries.</param>
/// <param name="Streak">Consecutive successful jobs since the last failed job or failed verification.</param>
/// <param name="StreakLevel">Current level (streak ÷ level size, capped).</param>
/// <param name="StreakBonus">Fractional bonus the level earns on each credit.</param>
/// <param name="StreakToNextLevel">Successes still needed for the next level; 0 at the top level.</param>
/// <param name="QualityFactor">Multiplier earned by verification (1 to start).</param>
/// <param name="Suspicions">Reasons the pool distrusts the worker, oldest first.</param>
/// <param name="Statistics">Counts and rates.</param>
[GenerateSerializer, Immutable, Alias("poolai.RewardSummary")]
public sealed record RewardSummary(
    [property: Id(0)] string Worker,
    [property: Id(1)] decimal Balance,
    [property: Id(2)] int Entries,
    [property: Id(3)] int Streak,
    [property: Id(4)] int StreakLevel,
    [property: Id(5)] double StreakBonus,
    [property: Id(6)] int StreakToNextLevel,
    [property: Id(7)] double QualityFactor,
    [property: Id(8)] IReadOnlyList<Suspicion> Suspicions,
    [property: Id(9)] RewardStatistics Statistics);

/// <summary>A worker's success statistics.</summary>
/// <param name="JobsSucceeded">Jobs paid for.</param>
/// <param name="JobsFailed">Job attempts that broke on the worker.</param>
/// <param name="SuccessRate">Succeeded ÷ (succeeded + failed); 0 with no jobs.</param>
/// <param name="VerificationsPassed">Its outputs that other workers reproduced.</param>
/// <param name="VerificationsFailed">Its outputs that other workers did not reproduce.</param>
/// <param name="VerifiedRate">Passed ÷ (passed + failed); 0 with no verification.</param>
/// <param name="MeanTokensPerSecond">Mean throughput of its paid jobs, tokens/s.</param>
/// <param name="EarnedPerDay">Net credits per UTC day, last 30 days with entries, oldest first.</param>
[GenerateSerializer, Immutable, Alias("poolai.RewardStatistics")]
public sealed record RewardStatistics(
    [property: Id(0)] int JobsSucceeded,
    [property: Id(1)] int JobsFailed,
    [property: Id(2)] double SuccessRate,
    [property: Id(3)] int VerificationsPassed,
    [property: Id(4)] int VerificationsFailed,
    [property: Id(5)] double VerifiedRate,
    [property: Id(6)] double MeanTokensPerSecond,
    [property: Id(7)] IReadOnlyList<DailyEarnings> EarnedPerDay);

/// <summary>Net credits earned on one UTC day.</summary>
[GenerateSerializer, Immutable, Alias("poolai.DailyEarnings")]
public sealed record DailyEarnings([property: Id(0)] DateOnly Day, [property: Id(1)] decimal Amount);

/// <summary>One page of a ledger's history, newest first.</summary>
/// <param name="Entries">Entries made before the requested time, newest first.</param>
/// <param name="NextBefore">Pass as <c>before</c> for the next (older) page; null when this is the last.</param>
[GenerateSerializer, Immutable, Alias("poolai.RewardHistoryPage")]
public sealed record RewardHistoryPage(
    [property: Id(0)] IReadOnlyList<RewardEntry> Entries,
    [property: Id(1)] DateTimeOffset? NextBefore);

/// <summary>A leaderboard period.</summary>
public enum LeaderboardPeriod
{
    /// <summary>The current UTC day.</summary>
    Day = 0,

    /// <summary>The last 7 UTC days, today included.</summary>
    Week = 1,

    /// <summary>The last 30 UTC days, today included.</summary>
    Month = 2,

    /// <summary>Since the pool started.</summary>
    All = 3,
}

/// <summary>One row of the leaderboard.</summary>
/// <param name="Rank">1 for the top.</param>
/// <param name="Worker">The worker.</param>
/// <param name="Earned">Net credits in the period.</param>
/// <param name="Jobs">Jobs credited in the period.</param>
[GenerateSerializer, Immutable, Alias("poolai.LeaderboardRow")]
public sealed record LeaderboardRow(
    [property: Id(0)] int Rank,
    [property: Id(1)] string Worker,
    [property: Id(2)] decimal Earned,
    [property: Id(3)] int Jobs);
