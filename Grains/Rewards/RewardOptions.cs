using System.ComponentModel.DataAnnotations;

namespace PoolAI.Rewards;

/// <summary>Reward, verification and trust settings (configuration section <c>PoolAI:Rewards</c>). See <see cref="RewardFormula"/> for how they combine.</summary>
public sealed class RewardOptions
{
    /// <summary>Configuration section.</summary>
    public const string Section = "PoolAI:Rewards";

    /// <summary>Smallest parameter count the base rate uses, so tiny models still pay (default 1,000,000).</summary>
    [Range(1, long.MaxValue)]
    public long MinRateParameters { get; set; } = 1_000_000;

    /// <summary>Credits per megapixel per sampling step of an image (default 0.1232, AI Horde's per-step kudos).</summary>
    [Range(0, 1000)]
    public decimal ImageRatePerMegapixelStep { get; set; } = 0.1232m;

    /// <summary>Credits per item of data processing (default 0.0001).</summary>
    [Range(0, 1000)]
    public decimal DataRatePerItem { get; set; } = 0.0001m;

    /// <summary>Slope <c>k</c> of the speed factor <c>exp(k·(r − 1))</c>, r = throughput ÷ pool median (default 1).</summary>
    [Range(0, 10)]
    public double SpeedSlope { get; set; } = 1.0;

    /// <summary>Lower bound of the speed factor (default 0.5).</summary>
    [Range(0.01, 1)]
    public double MinSpeedFactor { get; set; } = 0.5;

    /// <summary>Upper bound of the speed factor (default 3).</summary>
    [Range(1, 100)]
    public double MaxSpeedFactor { get; set; } = 3.0;

    /// <summary>Jobs of the same model and device class kept for the pool's median throughput (default 101).</summary>
    [Range(1, 100_000)]
    public int MedianWindow { get; set; } = 101;

    /// <summary>Samples needed before a throughput is compared with the median (default 5); before that the speed factor is 1.</summary>
    [Range(1, 100_000)]
    public int MinMedianSamples { get; set; } = 5;

    /// <summary>Throughput above this multiple of the pool median is implausible for the device class: a suspicion, no speed bonus (default 10).</summary>
    [Range(1.5, 1000)]
    public double ImplausibleSpeedup { get; set; } = 10;

    /// <summary>Quality factor gained per passed verification (default 0.05).</summary>
    [Range(0, 1)]
    public double QualityStep { get; set; } = 0.05;

    /// <summary>Multiplier of the quality factor on a failed verification (default 0.5).</summary>
    [Range(0, 1)]
    public double QualityPenalty { get; set; } = 0.5;

    /// <summary>Lowest quality factor (default 0.1).</summary>
    [Range(0, 1)]
    public double MinQualityFactor { get; set; } = 0.1;

    /// <summary>Highest quality factor (default 1.5).</summary>
    [Range(1, 10)]
    public double MaxQualityFactor { get; set; } = 1.5;

    /// <summary>Consecutive successes per streak level (default 10).</summary>
    [Range(1, 100_000)]
    public int StreakLevelSize { get; set; } = 10;

    /// <summary>Highest streak level (default 10).</summary>
    [Range(0, 1000)]
    public int MaxStreakLevel { get; set; } = 10;

    /// <summary>Fractional bonus per streak level (default 0.02: +20% at level 10).</summary>
    [Range(0, 1)]
    public double StreakBonusPerLevel { get; set; } = 0.02;

    /// <summary>Share of successful jobs verified by a second worker, 0–1 (default 0.05).</summary>
    [Range(0, 1)]
    public double VerificationShare { get; set; } = 0.05;

    /// <summary>Suspicions at which a worker is paused (default 5).</summary>
    [Range(1, 1000)]
    public int SuspicionLimit { get; set; } = 5;

    /// <summary>
    /// Wait between a job's success being stored and its credit (default 0). Only for fault-injection tests, which kill
    /// the coordinator in that window; the credit is made after a restart all the same.
    /// </summary>
    public TimeSpan CreditDelay { get; set; } = TimeSpan.Zero;
}
