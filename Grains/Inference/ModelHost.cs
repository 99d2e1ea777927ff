using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using PoolAI.Jobs;
using PoolAI.Libraries;
using PoolAI.Models;

namespace PoolAI.Inference;

/// <summary>
/// Loads each model once per silo and shares it between the silo's inference activations, with one
/// <see cref="ContinuousBatcher"/> per model so that their generations share forward passes. Only silos that serve a
/// model ever call it for that model (the placement filter sees to that). When a model's weights change on disk (a
/// checkpoint mirrored over it: its config names other weights, by SHA-256), the next request loads the new checkpoint
/// and the old batcher retires: what it runs finishes on the old weights, then it frees them.
/// </summary>
public sealed class ModelHost(ModelRegistry registry, IOptions<BatchingOptions> batching, IOptions<DecodingOptions> decoding) : IDisposable
{
    private readonly ConcurrentDictionary<string, Entry> _batchers = new(StringComparer.Ordinal);

    /// <summary>Models loaded so far.</summary>
    public IReadOnlyCollection<string> Loaded => _batchers.Where(g => g.Value.Batcher.IsValueCreated).Select(g => g.Key).ToList();

    /// <summary>The batcher of <paramref name="model"/>'s current checkpoint, loading it on first use (and again when its weights changed).</summary>
    /// <exception cref="JobValidationException">Unknown model.</exception>
    public ContinuousBatcher Get(string model)
    {
        var path = registry.PathOf(model);
        var weights = registry.Get(model).Weights?.Sha256;
        while (true)
        {
            var entry = _batchers.GetOrAdd(model, _ => Load(path, weights));
            if (string.Equals(entry.Weights, weights, StringComparison.OrdinalIgnoreCase))
                return ValueOf(model, entry);

            // New weights: load them beside the batcher that serves now, and retire that one only once they loaded
            // (a checkpoint that fails to load leaves the old weights serving).
            var fresh = Load(path, weights);
            var batcher = fresh.Batcher.Value;
            if (_batchers.TryUpdate(model, fresh, entry))
            {
                Retire(entry);
                return batcher;
            }

            batcher.Dispose(); // another request swapped first: use its batcher
            batcher.Model.Dispose();
        }
    }

    /// <summary>
    /// Generates on <paramref name="model"/>'s current batcher (see <see cref="ContinuousBatcher.GenerateAsync"/>); a
    /// request that meets a batcher retired a moment before goes to its successor.
    /// </summary>
    /// <returns>The outcome and the batcher that produced it (its <see cref="ContinuousBatcher.DecodeVersion"/> and model).</returns>
    /// <exception cref="JobValidationException">Unknown model, or a prompt the tokenizer cannot encode.</exception>
    /// <exception cref="OperationCanceledException">Cancelled.</exception>
    public async Task<(GenerationOutcome Outcome, ContinuousBatcher Batcher)> GenerateAsync(
        string model, GenerationSettings settings, Action<int, string, int>? onText, CancellationToken cancellationToken)
    {
        while (true)
        {
            var batcher = Get(model);
            Task<GenerationOutcome> generation;
            try
            {
                generation = batcher.GenerateAsync(settings, onText, cancellationToken);
            }
            catch (ObjectDisposedException) when (batcher.IsRetired)
            {
                continue; // replaced between Get and the request: the successor takes it
            }

            return (await generation, batcher);
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var entry in _batchers.Values.Where(g => g.Batcher.IsValueCreated))
        {
            entry.Batcher.Value.Dispose();
            entry.Batcher.Value.Model.Dispose();
        }
    }

    /// <summary>The entry's batcher; a load that failed is forgotten, so that the next request tries again (after a fixed checkpoint arrives, say).</summary>
    private ContinuousBatcher ValueOf(string model, Entry entry)
    {
        try
        {
            return entry.Batcher.Value;
        }
        catch
        {
            _batchers.TryRemove(KeyValuePair.Create(model, entry));
            throw;
        }
    }

    /// <summary>Retires a replaced batcher, once it has loaded if it is still loading.</summary>
    private static void Retire(Entry entry)
    {
        if (entry.Batcher.IsValueCreated)
        {
            entry.Batcher.Value.Retire();
            return;
        }

        _ = Task.Run(() =>
        {
            try
            {
                entry.Batcher.Value.Retire();
            }
            catch (Exception)
            {
                // it never loaded: nothing to free
            }
        });
    }

    private Entry Load(string path, string? weights) => new(weights, new Lazy<ContinuousBatcher>(
        () =>
        {
            TorchLibraries.EnsureLoaded();
            return new ContinuousBatcher(ModelCheckpoint.Load(path), batching.Value.MaxBatch, decoding.Value.Backend);
        },
        LazyThreadSafetyMode.ExecutionAndPublication));

    private sealed record Entry(string? Weights, Lazy<ContinuousBatcher> Batcher);
}
