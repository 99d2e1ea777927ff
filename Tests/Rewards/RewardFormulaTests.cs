using PoolAI.Jobs;
using PoolAI.Rewards;

namespace PoolAI.Tests.Rewards;

[TestClass]
public sealed class RewardFormulaTests
{
    private static readonly RewardFormula Formula = new(new RewardOptions());

    [TestMethod]
    public void TextBaseAmountIsAiHordeKudos()
    {
        // 100 tokens on a 10M-parameter model: 100 × 0.01 / 21.
        var price = Formula.Price(JobKind.TextGeneration, 10_000_000, 100, 1.0, 1.0, 0);
        Assert.AreEqual(0.047619m, price.Base);
        Assert.AreEqual(0.047619m, price.Total);
        Assert.AreEqual(Formula.BaseRate(JobKind.TextGeneration, 10_000_000), Formula.BaseRate(JobKind.CodeGeneration, 10_000_000));
    }

    [TestMethod]
    public void TotalMultipliesBaseBySpeedQualityAndStreak()
    {
        // 1000 tokens on 7B: base 333.333333; e (twice the median) × 1.5 quality × 1.04 (streak 25 = level 2).
        var speed = Formula.SpeedFactor(20, 10);
        Assert.AreEqual(Math.E, speed, 1e-12);
        var price = Formula.Price(JobKind.TextGeneration, 7_000_000_000, 1000, speed, 1.5, 25);
        Assert.AreEqual(333.333333m, price.Base);
        Assert.AreEqual(0.04, price.Streak, 1e-12);
        Assert.AreEqual(1413.506549m, price.Total);
    }

    [TestMethod]
    public void TinyModelsPayAtTheMinimumParameterCount()
    {
        Assert.AreEqual(Formula.BaseRate(JobKind.TextGeneration, 1_000_000), Formula.BaseRate(JobKind.TextGeneration, 1_000));
        Assert.AreEqual(0.001m / 21m, Formula.BaseRate(JobKind.TextGeneration, 1_000));
    }

    [TestMethod]
    public void OtherKindsHaveTheirOwnUnitsAndRates()
    {
        Assert.AreEqual(3 * 2m / 21m, Formula.BaseRate(JobKind.Training, 2_000_000_000)); // three times the text rate of a 2B model
        var units = RewardFormula.ImageUnits(1, 1024, 1024, 30);
        Assert.AreEqual(31_457_280L, units);
        Assert.AreEqual(3.875537m, Formula.Price(JobKind.ImageGeneration, 0, units, 1, 1, 0).Total);
        Assert.AreEqual(0.5m, Formula.Price(JobKind.DataProcessing, 0, 5000, 1, 1, 0).Total);
        Assert.AreEqual(0m, Formula.BaseRate(JobKind.System, 1_000_000_000));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => RewardFormula.ImageUnits(1, 0, 512, 20));
    }

    [TestMethod]
    public void SpeedFactorIsExponentialAndBounded()
    {
        Assert.AreEqual(1.0, Formula.SpeedFactor(10, 10), 1e-12);
        Assert.AreEqual(0.6065306597126334, Formula.SpeedFactor(5, 10), 1e-12);
        Assert.AreEqual(0.5, Formula.SpeedFactor(1, 10), 1e-12);   // exp(-0.9) = 0.41, bounded below
        Assert.AreEqual(3.0, Formula.SpeedFactor(40, 10), 1e-12);  // exp(3) = 20, bounded above
        Assert.AreEqual(1.0, Formula.SpeedFactor(0, 10));           // unknown throughput
        Assert.AreEqual(1.0, Formula.SpeedFactor(10, 0));           // no median yet
        var steep = new RewardFormula(new RewardOptions { SpeedSlope = 2, MaxSpeedFactor = 10 });
        Assert.AreEqual(Math.Exp(2), steep.SpeedFactor(20, 10), 1e-12);
        Assert.IsTrue(Formula.Implausible(101, 10));
        Assert.IsFalse(Formula.Implausible(99, 10));
        Assert.IsFalse(Formula.Implausible(1000, 0));
    }

    [TestMethod]
    public void StreakLevelsGrowEveryTenSuccessesUpToTen()
    {
        Assert.AreEqual(0, Formula.StreakLevel(9));
        Assert.AreEqual(1, Formula.StreakLevel(10));
        Assert.AreEqual(2, Formula.StreakLevel(25));
        Assert.AreEqual(10, Formula.StreakLevel(1000));
        Assert.AreEqual(0.2, Formula.StreakBonus(1000), 1e-12);
        Assert.AreEqual(5, Formula.StreakToNextLevel(25));
        Assert.AreEqual(10, Formula.StreakToNextLevel(0));
        Assert.AreEqual(0, Formula.StreakToNextLevel(100));
    }

    [TestMethod]
    public void QualityRisesSlowlyAndHalvesOnAFailure()
    {
        Assert.AreEqual(1.05, Formula.NextQuality(1.0, passed: true), 1e-12);
        Assert.AreEqual(1.5, Formula.NextQuality(1.5, passed: true), 1e-12);
        Assert.AreEqual(0.5, Formula.NextQuality(1.0, passed: false), 1e-12);
        Assert.AreEqual(0.1, Formula.NextQuality(0.15, passed: false), 1e-12);
    }

    [TestMethod]
    public void NoWorkIsRefusedNamingTheField()
    {
        var error = Assert.ThrowsExactly<ArgumentException>(() => Formula.Price(JobKind.TextGeneration, 10_000_000, 0, 1, 1, 0));
        StringAssert.Contains(error.Message, "WorkUnits must be positive");
    }
}
