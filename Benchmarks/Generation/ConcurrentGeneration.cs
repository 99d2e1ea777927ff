using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Configuration;
using PoolAI.Client.Sdk;
using PoolAI.Jobs;

namespace PoolAI.Benchmarks;

/// <summary>
/// Aggregate tokens/s of concurrent generations through the pool (client SDK → job grains → queue → the silo's
/// continuous batcher), against an embedded all-in-one pool with in-memory storage whose slots and batch cap take the
/// largest concurrency at once. At each concurrency level, every repeat submits that many generations together (seeds
/// differ) and divides the tokens of all of them by the wall time from the first submit to the last result.
/// </summary>
public static class ConcurrentGeneration
{
    private const string Model = "shakespeare-char";

    /// <summary>Runs the measurement and returns the figures.</summary>
    /// <param name="tokens">Tokens per generation.</param>
    /// <param name="repeats">Measured rounds per concurrency level (after one warm-up round at the largest).</param>
    /// <param name="concurrency">Generations submitted together, one level per entry (each at least 1).</param>
    /// <exception cref="ArgumentException">No level, or a level below 1.</exception>
    /// <exception cref="InvalidOperationException">A generation did not succeed with <paramref name="tokens"/> tokens.</exception>
    public static async Task<ConcurrentGenerationResult> RunAsync(int tokens, int repeats, IReadOnlyList<int> concurrency)
    {
        if (concurrency.Count == 0 || concurrency.Any(c => c < 1))
            throw new ArgumentException("each concurrency level must be at least 1", nameof(concurrency));
        var largest = concurrency.Max().ToString(CultureInfo.InvariantCulture);
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["PoolAI:Storage:Provider"] = "process", // state in this process's memory (Orleans' "memory" storage grains log errors as the pool stops)
            ["PoolAI:Cluster:GatewayPort"] = "0",
            ["PoolAI:Miner:Slots"] = largest,
            ["PoolAI:Miner:MaxBatch"] = largest,
            // A verified job runs again as a check job, extra work on the same cores: this measures serving, not verification.
            ["PoolAI:Rewards:VerificationShare"] = "0",
        }).Build();
        await using var pool = await PoolConnection.OpenAsync(configuration);

        var seed = 0;
        async Task<double> RoundAsync(int generations)
        {
            var watch = Stopwatch.StartNew();
            var jobs = await Task.WhenAll(Enumerable.Range(0, generations).Select(_ =>
                pool.Client.GenerateAsync(Model, new GenerationSettings("ROMEO:", tokens, 0.8f, 0, 1f, Interlocked.Increment(ref seed)))));
            var elapsed = watch.Elapsed.TotalSeconds;
            if (jobs.FirstOrDefault(j => j.Status != JobStatus.Succeeded || j.Result?.Text?.TokensGenerated != tokens) is { } bad)
                throw new InvalidOperationException($"pool job {bad.Id} ended {bad.Status} with {bad.Result?.Text?.TokensGenerated ?? 0} of {tokens} tokens");
            return jobs.Sum(j => j.Result!.Text!.TokensGenerated) / elapsed;
        }

        await RoundAsync(concurrency.Max());
        var rates = concurrency.Distinct().ToDictionary(c => c, _ => new List<double>());
        for (var i = 0; i < repeats; i++)
        {
            // Levels alternate within each repeat so drift in machine speed hits every level alike.
            foreach (var level in rates.Keys)
                rates[level].Add(await RoundAsync(level));
        }

        return new ConcurrentGenerationResult(tokens, repeats, rates.ToDictionary(r => r.Key, r => Summary.Of(r.Value)));
    }
}

/// <summary>Figures of <see cref="ConcurrentGeneration"/>.</summary>
/// <param name="Tokens">Tokens per generation.</param>
/// <param name="Repeats">Measured rounds per level.</param>
/// <param name="TokensPerSecond">Aggregate tokens/s of all generations of a round, by concurrency level.</param>
public sealed record ConcurrentGenerationResult(int Tokens, int Repeats, IReadOnlyDictionary<int, Summary> TokensPerSecond);
