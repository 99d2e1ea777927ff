using PoolAI.Gateway.Jobs;
using PoolAI.Jobs;

namespace PoolAI.Tests.Jobs;

[TestClass]
public sealed class ResultCacheKeyTests
{
    private const string Weights = "7f3a";
    private static readonly GenerationSettings Settings = new("ROMEO:", 40, 0.8f, 0, 1f, 7, ["\n\n"]);
    private static readonly JobSpec Spec = JobSpec.TextGeneration("shakespeare-char", Settings);

    [TestMethod]
    public void TheSameRequestOnTheSameCheckpointHasTheSameKey()
    {
        var key = ResultCacheKey.For(Spec, Weights);
        Assert.AreEqual(64, key!.Length);
        Assert.AreEqual(key, ResultCacheKey.For(Spec with { Priority = 5, Requester = "someone", TimeToLive = TimeSpan.FromMinutes(1), WebhookUrl = "https://example.com/hook" }, Weights.ToUpperInvariant()));
        Assert.AreEqual(key, ResultCacheKey.For(Spec with { Generation = Settings with { Stop = ["\n\n"] } }, Weights), "stop lists compare by content");
        Assert.AreEqual(ResultCacheKey.For(Spec with { Generation = Settings with { Stop = null } }, Weights), ResultCacheKey.For(Spec with { Generation = Settings with { Stop = [] } }, Weights));
        Assert.AreEqual(
            ResultCacheKey.For(Spec with { Generation = Settings with { Stop = ["x", "y"] } }, Weights),
            ResultCacheKey.For(Spec with { Generation = Settings with { Stop = ["y", "x", "y"] } }, Weights),
            "stop sequences are a set: generation ends at the earliest match of any");
        Assert.AreEqual(key, ResultCacheKey.For(Spec with { Requirements = new JobRequirements(MinMemoryMb: 512) }, Weights), "memory requirements choose a silo, not the tokens");
    }

    [TestMethod]
    public void EveryPartOfTheRequestAndTheCheckpointChangesTheKey()
    {
        var key = ResultCacheKey.For(Spec, Weights);
        string?[] others =
        [
            ResultCacheKey.For(Spec, "7f3b"),
            ResultCacheKey.For(Spec with { Model = "other-model" }, Weights),
            ResultCacheKey.For(Spec with { Kind = JobKind.CodeGeneration }, Weights),
            ResultCacheKey.For(Spec with { Generation = Settings with { Prompt = "ROMEO: " } }, Weights),
            ResultCacheKey.For(Spec with { Generation = Settings with { MaxTokens = 41 } }, Weights),
            ResultCacheKey.For(Spec with { Generation = Settings with { Temperature = 0.80001f } }, Weights),
            ResultCacheKey.For(Spec with { Generation = Settings with { TopK = 1 } }, Weights),
            ResultCacheKey.For(Spec with { Generation = Settings with { TopP = 0.99f } }, Weights),
            ResultCacheKey.For(Spec with { Generation = Settings with { Seed = 8 } }, Weights),
            ResultCacheKey.For(Spec with { Generation = Settings with { Stop = ["\n"] } }, Weights),
            ResultCacheKey.For(Spec with { Generation = Settings with { Stop = ["\n", "\r"] } }, Weights),
            // A job that asks for a device class is served only results made on it.
            ResultCacheKey.For(Spec with { Requirements = new JobRequirements(Device: "cuda") }, Weights),
            ResultCacheKey.For(Spec with { Requirements = new JobRequirements(Device: "cpu") }, Weights),
        ];
        foreach (var other in others)
            Assert.AreNotEqual(key, other);
        Assert.AreEqual(others.Length, others.Distinct().Count());
    }

    [TestMethod]
    public void FieldsCannotRunIntoEachOther()
    {
        var split = ResultCacheKey.For(Spec with { Generation = Settings with { Stop = ["a;b"] } }, Weights);
        var two = ResultCacheKey.For(Spec with { Generation = Settings with { Stop = ["a", "b"] } }, Weights);
        Assert.AreNotEqual(split, two);
    }

    [TestMethod]
    public void OptedOutCheckAndExcludingJobsAndUnidentifiedCheckpointsHaveNoKey()
    {
        Assert.IsNull(ResultCacheKey.For(Spec with { NoCache = true }, Weights));
        Assert.IsNull(ResultCacheKey.For(Spec with { Verifies = Guid.NewGuid() }, Weights));
        Assert.IsNull(ResultCacheKey.For(Spec with { ExcludedWorkers = ["miner-a"] }, Weights));
        Assert.IsNull(ResultCacheKey.For(Spec with { Generation = null }, Weights));
        Assert.IsNull(ResultCacheKey.For(Spec, null));
        Assert.IsNotNull(ResultCacheKey.For(Spec with { ExcludedWorkers = [] }, Weights));
    }

    [TestMethod]
    public void TheJobApiMapsCacheFalseToNoCache()
    {
        Assert.IsFalse(new GenerateRequest { Prompt = "ROMEO:" }.ToSpec("key-1").NoCache);
        Assert.IsTrue(new GenerateRequest { Prompt = "ROMEO:", Cache = false }.ToSpec("key-1").NoCache);
    }
}
