using PoolAI.Models;

namespace PoolAI.Benchmarks;

/// <summary>
/// The generation benchmark: <c>shakespeare-char</c> through the pool at each concurrency level
/// (<see cref="ConcurrentGeneration"/>), the native decoder called directly at batch 1 and 16 on 1 and 2 threads
/// (<see cref="DirectDecoding"/>), and the PyTorch eager reference of one stream (<see cref="TorchReference"/>) on 2
/// threads and on 1, with the pool's one stream over the faster of the two. Every run generates the same number of
/// tokens from the same prompt length.
/// </summary>
public static class GenerationBenchmark
{
    private const string Prompt = "ROMEO:";

    /// <summary>Runs every part and returns the figures.</summary>
    /// <param name="tokens">Tokens per generation.</param>
    /// <param name="repeats">Measured rounds of each part.</param>
    /// <param name="concurrency">Concurrency levels through the pool; the ratio needs 1 among them.</param>
    /// <param name="log">Progress.</param>
    public static async Task<GenerationBenchmarkResult> RunAsync(int tokens, int repeats, IReadOnlyList<int> concurrency, Action<string> log)
    {
        log($"pool: {string.Join(", ", concurrency)} concurrent generations of {tokens} tokens, {repeats} rounds");
        var pool = await ConcurrentGeneration.RunAsync(tokens, repeats, concurrency);

        log("native decoder, directly: batch 1 and 16 on 1 and 2 threads");
        var registry = new ModelRegistry(ModelRegistry.DefaultDirectory());
        using var model = ModelCheckpoint.Load(registry.PathOf("shakespeare-char"));
        var direct = DirectDecoding.Run(model, Prompt, tokens, repeats, [1, 16], [1, 2]);

        var torch = new List<TorchReferenceResult>();
        foreach (var threads in new[] { 2, 1 })
        {
            log($"PyTorch eager reference: {TorchReference.Python} {TorchReference.Script}, one stream, {threads} thread(s)");
            torch.Add(await TorchReference.RunAsync(tokens, model.Tokenizer.Encode(Prompt).Length, repeats, threads));
            if (torch[^1].SkipReason is { } reason)
                log($"PyTorch reference skipped: {reason}");
        }

        // Against PyTorch's better thread count: on a busy 2-core machine its 2 threads can be far slower than 1.
        var best = torch.Where(t => t.TokensPerSecond is not null).MaxBy(t => t.TokensPerSecond!.Median);
        Summary? ratio = null;
        if (best?.TokensPerSecond is { } reference && pool.TokensPerSecond.TryGetValue(1, out var one))
            ratio = new Summary(one.Median / reference.Median, one.Min / reference.Max, one.Max / reference.Min);
        return new GenerationBenchmarkResult(pool, direct, torch, best?.Threads, ratio);
    }
}

/// <summary>Figures of <see cref="GenerationBenchmark"/>.</summary>
/// <param name="Pool">Through the pool, by concurrency level.</param>
/// <param name="Direct">The native decoder called directly.</param>
/// <param name="Torch">The PyTorch eager reference of one stream, on 2 threads and on 1.</param>
/// <param name="TorchThreads">The thread count of the faster PyTorch run, the one <paramref name="PoolOverTorch"/> compares with.</param>
/// <param name="PoolOverTorch">
/// The pool's one stream over PyTorch's, tokens/s: the ratio of the medians, and as range the lowest pool figure over
/// the highest PyTorch one up to the highest over the lowest. Null when either is missing.
/// </param>
public sealed record GenerationBenchmarkResult(
    ConcurrentGenerationResult Pool,
    IReadOnlyList<DirectDecodingCase> Direct,
    IReadOnlyList<TorchReferenceResult> Torch,
    int? TorchThreads,
    Summary? PoolOverTorch);
