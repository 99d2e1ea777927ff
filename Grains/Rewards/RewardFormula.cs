using PoolAI.Jobs;

namespace PoolAI.Rewards;

/// <summary>
/// How much one job pays: <c>Total = BaseAmount × SpeedFactor × QualityFactor × (1 + StreakBonus)</c>, rounded to
/// 6 decimal places (away from zero).
/// <list type="bullet">
/// <item><b>Work units</b> by kind: generated tokens for text and code; images × pixels × sampling steps for images;
/// tokens processed for training; items for data processing; none for system tasks.</item>
/// <item><b>Base amount</b>. Text and code: <c>units × P / 10⁹ / 21</c>, P = the model's parameters (at least
/// <see cref="RewardOptions.MinRateParameters"/>) — AI Horde's text kudos, <c>tokens × parameters_in_billions / 21</c>
/// (Haidra-Org/AI-Horde, <c>horde/classes/kobold/processing_generation.py</c> <c>get_gen_kudos</c> with
/// <c>model_reference.get_text_model_multiplier</c>): linear in model size, because compute per token is ~2P FLOPs.
/// Training: three times the text rate per token processed (forward and backward pass ≈ 6P FLOPs per token against 2P
/// for inference; Kaplan et al. 2020, "Scaling Laws for Neural Language Models", §2.1). Images:
/// <see cref="RewardOptions.ImageRatePerMegapixelStep"/> per megapixel-step. Data processing:
/// <see cref="RewardOptions.DataRatePerItem"/> per item.</item>
/// <item><b>Speed factor</b> <c>clamp(exp(k·(r − 1)), min, max)</c>, r = the job's tokens/s ÷ the pool's median for the
/// same model and device class; 1 when either is unknown. Exponential so that being twice as fast as the median pays
/// e ≈ 2.7× (k = 1), bounded so that no one job dominates (defaults 0.5 and 3).</item>
/// <item><b>Quality factor</b>: the worker's, earned by verification (<see cref="NextQuality"/>).</item>
/// <item><b>Streak bonus</b>: <c>min(streak ÷ level size, max level) × bonus per level</c>.</item>
/// </list>
/// </summary>
public sealed class RewardFormula(RewardOptions options)
{
    /// <summary>AI Horde's divisor in its text kudos formula.</summary>
    public const decimal HordeTextDivisor = 21m;

    /// <summary>Decimal places of every amount.</summary>
    public const int Decimals = 6;

    /// <summary>The settings in use.</summary>
    public RewardOptions Options => options;

    /// <summary>Work units of generated text or code: the tokens generated.</summary>
    public static long TextUnits(int tokensGenerated) => tokensGenerated;

    /// <summary>Work units of an image job: images × width × height × sampling steps.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A count is not positive.</exception>
    public static long ImageUnits(int images, int width, int height, int steps)
    {
        Positive(images, nameof(images));
        Positive(width, nameof(width));
        Positive(height, nameof(height));
        Positive(steps, nameof(steps));
        return checked((long)images * width * height * steps);
    }

    /// <summary>Credits per work unit for <paramref name="kind"/> on a model with <paramref name="parameters"/> parameters; 0 for a kind this formula has no rate for (a kind's descriptor may set its own, see <c>JobKindDescriptor.RatePerUnit</c>).</summary>
    public decimal BaseRate(JobKind kind, long parameters)
    {
        var billions = Math.Max(parameters, options.MinRateParameters) / 1_000_000_000m;
        if (kind == JobKind.TextGeneration || kind == JobKind.CodeGeneration)
            return billions / HordeTextDivisor;
        if (kind == JobKind.Training)
            return 3 * billions / HordeTextDivisor;
        if (kind == JobKind.ImageGeneration)
            return options.ImageRatePerMegapixelStep / 1_000_000m;
        return kind == JobKind.DataProcessing ? options.DataRatePerItem : 0m;
    }

    /// <summary>Speed factor for <paramref name="tokensPerSecond"/> against the pool's <paramref name="median"/> (both tokens/s; 0 = unknown).</summary>
    public double SpeedFactor(double tokensPerSecond, double median)
    {
        if (tokensPerSecond <= 0 || median <= 0 || !double.IsFinite(tokensPerSecond) || !double.IsFinite(median))
            return 1.0;
        var factor = Math.Exp(options.SpeedSlope * (tokensPerSecond / median - 1));
        return Math.Clamp(factor, options.MinSpeedFactor, options.MaxSpeedFactor);
    }

    /// <summary>Whether <paramref name="tokensPerSecond"/> is beyond what the device class plausibly does, judged against the pool's median.</summary>
    public bool Implausible(double tokensPerSecond, double median) =>
        median > 0 && tokensPerSecond > median * options.ImplausibleSpeedup;

    /// <summary>Streak level of <paramref name="streak"/> consecutive successes.</summary>
    public int StreakLevel(int streak) => Math.Min(streak / options.StreakLevelSize, options.MaxStreakLevel);

    /// <summary>Fractional bonus of a streak of <paramref name="streak"/>.</summary>
    public double StreakBonus(int streak) => StreakLevel(streak) * options.StreakBonusPerLevel;

    /// <summary>Successes still needed for the next level; 0 at the top level.</summary>
    public int StreakToNextLevel(int streak) =>
        StreakLevel(streak) >= options.MaxStreakLevel ? 0 : options.StreakLevelSize - streak % options.StreakLevelSize;

    /// <summary>The quality factor after a verification: <c>min(max, q + step)</c> on a pass, <c>max(min, q × penalty)</c> on a failure.</summary>
    public double NextQuality(double quality, bool passed) => passed
        ? Math.Min(options.MaxQualityFactor, quality + options.QualityStep)
        : Math.Max(options.MinQualityFactor, quality * options.QualityPenalty);

    /// <summary>The amounts of one credit: base, factors and total.</summary>
    /// <exception cref="ArgumentException">Work units not positive; the message names the field.</exception>
    public (decimal Base, double Speed, double Streak, decimal Total) Price(JobKind kind, long parameters, long workUnits, double speedFactor, double qualityFactor, int streak) =>
        Price(BaseRate(kind, parameters), workUnits, speedFactor, qualityFactor, streak);

    /// <summary>The amounts of one credit at <paramref name="ratePerUnit"/> credits per work unit.</summary>
    /// <exception cref="ArgumentException">Work units not positive, or the rate negative; the message names the field.</exception>
    public (decimal Base, double Speed, double Streak, decimal Total) Price(decimal ratePerUnit, long workUnits, double speedFactor, double qualityFactor, int streak)
    {
        if (workUnits <= 0)
            throw new ArgumentException($"WorkUnits must be positive; was {workUnits}", nameof(workUnits));
        if (ratePerUnit < 0)
            throw new ArgumentException($"RatePerUnit must not be negative; was {ratePerUnit}", nameof(ratePerUnit));
        var baseAmount = Round(workUnits * ratePerUnit);
        var bonus = StreakBonus(streak);
        var total = Round(baseAmount * (decimal)speedFactor * (decimal)qualityFactor * (decimal)(1 + bonus));
        return (baseAmount, speedFactor, bonus, total);
    }

    /// <summary>Rounds an amount to <see cref="Decimals"/> places, away from zero.</summary>
    public static decimal Round(decimal amount) => Math.Round(amount, Decimals, MidpointRounding.AwayFromZero);

    private static void Positive(int value, string name)
    {
        if (value <= 0)
            throw new ArgumentOutOfRangeException(name, value, $"{name} must be positive");
    }
}
