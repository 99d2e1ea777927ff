using PoolAI.Jobs;
using PoolAI.Models;

namespace PoolAI.Tests;

/// <summary>The models the tests run: the committed <c>shakespeare-char</c> checkpoint, loaded once.</summary>
public static class TestModels
{
    public const string Shakespeare = "shakespeare-char";

    public static ModelRegistry Registry { get; } = new(ModelRegistry.DefaultDirectory());

    private static readonly Lazy<LoadedModel> Loaded = new(() => ModelCheckpoint.Load(Registry!.PathOf(Shakespeare)));

    public static LoadedModel ShakespeareModel => Loaded.Value;

    public static string TinyShakespeare => RepositoryFiles.Find("data/tinyshakespeare.txt")
        ?? throw new FileNotFoundException("data/tinyshakespeare.txt is missing from the build output and the repository");

    public static GenerationSettings Settings(string prompt = "ROMEO:", int maxTokens = 40, long seed = 7, float temperature = 0.8f, int topK = 0, float topP = 1f, IReadOnlyList<string>? stop = null) =>
        new(prompt, maxTokens, temperature, topK, topP, seed, stop);
}
