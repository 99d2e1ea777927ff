using System.Diagnostics;
using Microsoft.Extensions.Configuration;
using PoolAI.Client.Sdk;
using PoolAI.Jobs;
using PoolAI.Models;

namespace PoolAI.Benchmarks;

/// <summary>
/// Tokens/s of one generation stream through the pool (client → job grain → queue → inference grain,
/// state persisted at every status change) against the same model called in-process. Runs alternate
/// (direct, pool, direct, pool, …) so drift in machine speed hits both sides alike.
/// </summary>
public static class PoolVersusDirect
{
    /// <summary>Short pool jobs run before the measured ones, so the pool's code is compiled at full speed as it would be in a running pool.</summary>
    public const int WarmUpJobs = 50;

    /// <summary>Runs the comparison and returns the figures.</summary>
    /// <param name="tokens">Tokens per generation.</param>
    /// <param name="repeats">Measured generations per side (after one warm-up each).</param>
    /// <param name="storage">Grain storage of the embedded pool: <c>sqlite</c> (the default) or <c>memory</c>.</param>
    public static async Task<PoolVersusDirectResult> RunAsync(int tokens, int repeats, string storage)
    {
        var registry = new ModelRegistry(ModelRegistry.DefaultDirectory());
        using var loaded = ModelCheckpoint.Load(registry.PathOf("shakespeare-char"));
        var direct = new TextGenerator(loaded);
        var home = Path.Combine(Path.GetTempPath(), $"poolai-bench-{Guid.NewGuid():N}");
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["PoolAI:Storage:Provider"] = storage,
            ["PoolAI:Storage:ConnectionString"] = storage == "sqlite" ? $"Data Source={Path.Combine(home, "pool.db")}" : null,
            ["PoolAI:Cluster:GatewayPort"] = "0",
            ["PoolAI:Miner:Slots"] = "1",
            // A verified job runs again as a check job, extra work that would share the cores with the next measured
            // job: this compares serving one job, not verification.
            ["PoolAI:Rewards:VerificationShare"] = "0",
        }).Build();
        await using var pool = await PoolConnection.OpenAsync(configuration);

        GenerationSettings Settings(int seed) => new("ROMEO:", tokens, 0.8f, 0, 1f, seed);
        direct.Generate(Settings(0));
        // Warm-up: the pool's own code (job, queue, executor, streaming) is compiled in tiers like any .NET code, and runs
        // at full speed only after some dozens of jobs; the decoder is compiled fully optimised at once.
        for (var i = 0; i < WarmUpJobs; i++)
            await pool.Client.GenerateAsync("shakespeare-char", new GenerationSettings("ROMEO:", 20, 0.8f, 0, 1f, -1 - i), noCache: true);
        await pool.Client.GenerateAsync("shakespeare-char", Settings(0));

        var directRates = new List<double>();
        var poolRates = new List<double>();
        var pairedRatios = new List<double>();
        for (var i = 1; i <= repeats; i++)
        {
            var watch = Stopwatch.StartNew();
            var outcome = direct.Generate(Settings(i));
            directRates.Add(outcome.Tokens / watch.Elapsed.TotalSeconds);

            watch.Restart();
            // Measures generation: a pool.db kept from an earlier run must not answer from the result cache.
            var job = await pool.Client.GenerateAsync("shakespeare-char", Settings(i), noCache: true);
            var elapsed = watch.Elapsed.TotalSeconds;
            if (job.Status != JobStatus.Succeeded || job.Result?.Text?.Text != outcome.Text)
                throw new InvalidOperationException($"pool job {job.Id} ended {job.Status} or generated other text than the model in-process");
            poolRates.Add(job.Result!.Text!.TokensGenerated / elapsed);
            pairedRatios.Add(poolRates[^1] / directRates[^1]);
        }

        if (Directory.Exists(home))
            Directory.Delete(home, recursive: true);
        return new PoolVersusDirectResult(tokens, repeats, storage, Summary.Of(directRates), Summary.Of(poolRates), Summary.Of(pairedRatios));
    }
}

/// <summary>Figures of one comparison.</summary>
/// <param name="Tokens">Tokens per generation.</param>
/// <param name="Repeats">Measured pairs.</param>
/// <param name="Storage">Grain storage of the pool.</param>
/// <param name="Direct">Tokens/s in-process.</param>
/// <param name="Pool">Tokens/s through the pool, client-observed from submit to result.</param>
/// <param name="Ratio">Pool over direct tokens/s of each back-to-back pair; pairing cancels the machine's slow drift.</param>
public sealed record PoolVersusDirectResult(int Tokens, int Repeats, string Storage, Summary Direct, Summary Pool, Summary Ratio);

/// <summary>Median, minimum and maximum of repeated measurements.</summary>
public sealed record Summary(double Median, double Min, double Max)
{
    /// <summary>Summarises <paramref name="values"/>.</summary>
    public static Summary Of(IReadOnlyList<double> values)
    {
        var sorted = values.Order().ToArray();
        var median = sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
        return new Summary(median, sorted[0], sorted[^1]);
    }
}
