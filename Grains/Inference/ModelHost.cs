using System.Collections.Concurrent;
using PoolAI.Libraries;
using PoolAI.Models;

namespace PoolAI.Inference;

/// <summary>
/// Loads each model once per silo and shares it between the silo's inference activations. Only silos
/// that serve a model ever call it for that model (the placement filter sees to that).
/// </summary>
public sealed class ModelHost(ModelRegistry registry) : IDisposable
{
    private readonly ConcurrentDictionary<string, Lazy<TextGenerator>> _generators = new(StringComparer.Ordinal);

    /// <summary>Models loaded so far.</summary>
    public IReadOnlyCollection<string> Loaded => _generators.Where(g => g.Value.IsValueCreated).Select(g => g.Key).ToList();

    /// <summary>The generator of <paramref name="model"/>, loading the checkpoint on first use.</summary>
    /// <exception cref="Jobs.JobValidationException">Unknown model.</exception>
    public TextGenerator Get(string model)
    {
        var path = registry.PathOf(model);
        return _generators.GetOrAdd(model, _ => new Lazy<TextGenerator>(
            () =>
            {
                TorchLibraries.EnsureLoaded();
                return new TextGenerator(ModelCheckpoint.Load(path));
            },
            LazyThreadSafetyMode.ExecutionAndPublication)).Value;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var generator in _generators.Values.Where(g => g.IsValueCreated))
            generator.Value.Model.Dispose();
    }
}
