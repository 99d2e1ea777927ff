using PoolAI.Models;

namespace PoolAI.Tests.Models;

[TestClass]
public sealed class SamplerTests
{
    private static readonly float[] Logits = [1.0f, 3.0f, 2.0f, 3.0f, -1.0f];

    [TestMethod]
    public void ZeroTemperatureIsArgMaxWithLowestIdOnTies() =>
        Assert.AreEqual(1, Sampler.Sample(Logits, 0f, 0, 1f, new SplitMix64(1)));

    [TestMethod]
    public void TopKOneAlwaysPicksTheBestToken()
    {
        var random = new SplitMix64(42);
        for (var i = 0; i < 100; i++)
            Assert.AreEqual(1, Sampler.Sample(Logits, 1.5f, 1, 1f, random));
    }

    [TestMethod]
    public void TopPKeepsOnlyTheNucleus()
    {
        // Probabilities at T=1: ids 1 and 3 hold 2 × 0.3995; a top-p of 0.5 keeps ids 1 and 3 only.
        var random = new SplitMix64(3);
        var seen = Enumerable.Range(0, 500).Select(_ => Sampler.Sample(Logits, 1f, 0, 0.5f, random)).ToHashSet();
        CollectionAssert.AreEquivalent(new[] { 1, 3 }, seen.ToArray());
    }

    [TestMethod]
    public void SamplingFollowsTheSoftmaxDistribution()
    {
        var random = new SplitMix64(11);
        const int draws = 20_000;
        var counts = new int[Logits.Length];
        for (var i = 0; i < draws; i++)
            counts[Sampler.Sample(Logits, 1f, 0, 1f, random)]++;
        var z = Logits.Sum(l => Math.Exp(l));
        for (var id = 0; id < Logits.Length; id++)
            Assert.AreEqual(Math.Exp(Logits[id]) / z, counts[id] / (double)draws, 0.015, $"token {id}");
    }

    [TestMethod]
    public void SameSeedGivesTheSameDraws()
    {
        int[] Draw(long seed)
        {
            var random = new SplitMix64(seed);
            return Enumerable.Range(0, 50).Select(_ => Sampler.Sample(Logits, 1f, 0, 1f, random)).ToArray();
        }

        CollectionAssert.AreEqual(Draw(7), Draw(7));
        CollectionAssert.AreNotEqual(Draw(7), Draw(8));
    }

    [TestMethod]
    public void SplitMix64MatchesItsPublishedSequence()
    {
        // Reference values of SplitMix64 seeded with 0 (Vigna's splitmix64.c).
        var random = new SplitMix64(0);
        Assert.AreEqual(0xE220A8397B1DCDAFUL, random.NextUInt64());
        Assert.AreEqual(0x6E789E6AA1B965F4UL, random.NextUInt64());
    }
}
