using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using PoolAI.Libraries;
using PoolAI.Models;

namespace PoolAI.Inference;

/// <summary>
/// Loads each model once per silo and shares it between the silo's inference activations, with one
/// <see cref="ContinuousBatcher"/> per model so that their generations share forward passes. Only silos that serve a
/// model ever call it for that model (the placement filter sees to that).
/// </summary>
public sealed class ModelHost(ModelRegistry registry, IOptions<BatchingOptions> batching, IOptions<DecodingOptions> decoding) : IDisposable
{
    private readonly ConcurrentDictionary<string, Lazy<ContinuousBatcher>> _batchers = new(StringComparer.Ordinal);

    /// <summary>Models loaded so far.</summary>
    public IReadOnlyCollection<string> Loaded => _batchers.Where(g => g.Value.IsValueCreated).Select(g => g.Key).ToList();

    /// <summary>The batcher of <paramref name="model"/>, loading the checkpoint on first use.</summary>
    /// <exception cref="Jobs.JobValidationException">Unknown model.</exception>
    public ContinuousBatcher Get(string model)
    {
        var path = registry.PathOf(model);
        return _batchers.GetOrAdd(model, _ => new Lazy<ContinuousBatcher>(
            () =>
            {
                TorchLibraries.EnsureLoaded();
                return new ContinuousBatcher(ModelCheckpoint.Load(path), batching.Value.MaxBatch, decoding.Value.Backend);
            },
            LazyThreadSafetyMode.ExecutionAndPublication)).Value;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var batcher in _batchers.Values.Where(g => g.IsValueCreated))
        {
            batcher.Value.Dispose();
            batcher.Value.Model.Dispose();
        }
    }
}
