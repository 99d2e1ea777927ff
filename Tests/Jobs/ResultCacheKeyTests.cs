using PoolAI.Gateway.Jobs;
using PoolAI.Jobs;
using PoolAI.Kinds.SystemTasks;
using PoolAI.Kinds.Text;
using PoolAI.Models;

namespace PoolAI.Tests.Jobs;

[TestClass]
public sealed class ResultCacheKeyTests
{
    private static readonly GenerationSettings Settings = new("ROMEO:", 40, 0.8f, 0, 1f, 7, ["\n\n"]);
    private static readonly JobSpec Spec = JobSpec.TextGeneration(TestModels.Shakespeare, Settings);
    private static readonly TextGenerationKind Text = new(JobKind.TextGeneration, TestModels.Registry);

    private static string? Key(JobSpec spec, TextGenerationKind? kind = null) => ResultCacheKey.For(spec, kind ?? Text);

    private static JobSpec With(GenerationSettings settings) => Spec with { Input = settings };

    [TestMethod]
    public void TheSameRequestOnTheSameCheckpointHasTheSameKey()
    {
        var key = Key(Spec);
        Assert.AreEqual(64, key!.Length);
        Assert.AreEqual(key, Key(Spec with { Priority = 5, Requester = "someone", TimeToLive = TimeSpan.FromMinutes(1), WebhookUrl = "https://example.com/hook" }));
        Assert.AreEqual(key, Key(With(Settings with { Stop = ["\n\n"] })), "stop lists compare by content");
        Assert.AreEqual(Key(With(Settings with { Stop = null })), Key(With(Settings with { Stop = [] })));
        Assert.AreEqual(
            Key(With(Settings with { Stop = ["x", "y"] })),
            Key(With(Settings with { Stop = ["y", "x", "y"] })),
            "stop sequences are a set: generation ends at the earliest match of any");
        Assert.AreEqual(key, Key(Spec with { Requirements = new JobRequirements(MinMemoryMb: 512) }), "memory requirements choose a silo, not the tokens");
    }

    [TestMethod]
    public void EveryPartOfTheRequestAndTheCheckpointChangesTheKey()
    {
        var key = Key(Spec);
        using var retrained = RegistryWithWeights("7f3b");
        string?[] others =
        [
            Key(Spec, new TextGenerationKind(JobKind.TextGeneration, retrained.Registry)),
            Key(Spec with { Kind = JobKind.CodeGeneration }, new TextGenerationKind(JobKind.CodeGeneration, TestModels.Registry)),
            Key(With(Settings with { Prompt = "ROMEO: " })),
            Key(With(Settings with { MaxTokens = 41 })),
            Key(With(Settings with { Temperature = 0.80001f })),
            Key(With(Settings with { TopK = 1 })),
            Key(With(Settings with { TopP = 0.99f })),
            Key(With(Settings with { Seed = 8 })),
            Key(With(Settings with { Stop = ["\n"] })),
            Key(With(Settings with { Stop = ["\n", "\r"] })),
            // A job that asks for a device class is served only results made on it.
            Key(Spec with { Requirements = new JobRequirements(Device: "cuda") }),
            Key(Spec with { Requirements = new JobRequirements(Device: "cpu") }),
        ];
        foreach (var other in others)
            Assert.AreNotEqual(key, other);
        Assert.AreEqual(others.Length, others.Distinct().Count());
    }

    [TestMethod]
    public void FieldsCannotRunIntoEachOther()
    {
        Assert.AreNotEqual(Key(With(Settings with { Stop = ["a;b"] })), Key(With(Settings with { Stop = ["a", "b"] })));
        Assert.AreNotEqual(CacheText.Join(["ab", "c"]), CacheText.Join(["a", "bc"]));
    }

    [TestMethod]
    public void OptedOutCheckAndExcludingJobsAndUnidentifiedCheckpointsHaveNoKey()
    {
        Assert.IsNull(Key(Spec with { NoCache = true }));
        Assert.IsNull(Key(Spec with { Verifies = Guid.NewGuid() }));
        Assert.IsNull(Key(Spec with { ExcludedWorkers = ["miner-a"] }));
        Assert.IsNull(Key(Spec with { Input = new SystemTaskInput() }), "an input of another kind has no identity");
        using var unidentified = RegistryWithWeights(null);
        Assert.IsNull(Key(Spec, new TextGenerationKind(JobKind.TextGeneration, unidentified.Registry)), "a checkpoint without a weights hash cannot be told from a retrained one");
        Assert.IsNotNull(Key(Spec with { ExcludedWorkers = [] }));
        Assert.IsNull(ResultCacheKey.For(JobSpec.SystemTask(SystemTasks.Probe), new SystemTaskKind()), "system tasks measure the silo now: never cached");
    }

    [TestMethod]
    public void TheJobApiMapsCacheFalseToNoCache()
    {
        Assert.IsFalse(new GenerateRequest { Prompt = "ROMEO:" }.ToSpec("key-1").NoCache);
        Assert.IsTrue(new GenerateRequest { Prompt = "ROMEO:", Cache = false }.ToSpec("key-1").NoCache);
    }

    /// <summary>A registry holding the shipped model's config with another weights hash (null: none).</summary>
    private static TemporaryRegistry RegistryWithWeights(string? sha256)
    {
        var directory = Directory.CreateTempSubdirectory("poolai-registry-");
        var model = Directory.CreateDirectory(Path.Combine(directory.FullName, TestModels.Shakespeare));
        var config = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(TestModels.Registry.PathOf(TestModels.Shakespeare), ModelCheckpoint.ConfigFile)))!;
        if (sha256 is null)
            config.AsObject().Remove("weights");
        else
            config["weights"]!["sha256"] = sha256;
        File.WriteAllText(Path.Combine(model.FullName, ModelCheckpoint.ConfigFile), config.ToJsonString());
        return new TemporaryRegistry(directory.FullName);
    }

    private sealed class TemporaryRegistry(string directory) : IDisposable
    {
        public ModelRegistry Registry { get; } = new(directory);

        public void Dispose() => Directory.Delete(directory, recursive: true);
    }
}
