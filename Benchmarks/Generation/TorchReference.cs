using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using PoolAI.Models;

namespace PoolAI.Benchmarks;

/// <summary>
/// The PyTorch eager reference for one generation stream: runs <c>reference/torch_decode.py</c> (the shipped model's
/// architecture with random weights, a preallocated key/value cache, seeded sampling, one stream) with
/// <see cref="Python"/> and reads the tokens/s it prints.
/// </summary>
public static class TorchReference
{
    /// <summary>The interpreter: Debian's, whose <c>python3-torch</c> package provides torch.</summary>
    public const string Python = "/usr/bin/python3";

    /// <summary>The script, relative to the benchmarks' folder (copied beside the executable at build).</summary>
    public const string Script = "reference/torch_decode.py";

    /// <summary>Runs the reference; the result says why when it could not run.</summary>
    /// <param name="tokens">Tokens generated.</param>
    /// <param name="promptTokens">Tokens of the prompt.</param>
    /// <param name="repeats">Measured runs (after one warm-up).</param>
    /// <param name="threads">torch threads.</param>
    public static async Task<TorchReferenceResult> RunAsync(int tokens, int promptTokens, int repeats, int threads)
    {
        var script = RepositoryFiles.Find(Script) ?? RepositoryFiles.Find(Path.Combine("Benchmarks", Script));
        if (script is null)
            return TorchReferenceResult.Skipped(threads, $"{Script} was not found beside the benchmarks or in the repository");
        if (!File.Exists(Python))
            return TorchReferenceResult.Skipped(threads, $"{Python} is missing (Debian: apt-get install python3-torch)");
        var start = new ProcessStartInfo(Python) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in new[] { script, "--tokens", Text(tokens), "--prompt-tokens", Text(promptTokens), "--repeats", Text(repeats), "--threads", Text(threads) })
            start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        var last = (await output).Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault();
        if (process.ExitCode != 0 || last is null)
        {
            var why = (await error).Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault() ?? $"exit {process.ExitCode}";
            return TorchReferenceResult.Skipped(threads, $"{Python} {Script} failed: {why}");
        }

        var figures = JsonSerializer.Deserialize<ScriptOutput>(last)!;
        return new TorchReferenceResult(figures.Torch, figures.Threads, figures.Blas, Summary.Of(figures.TokensPerSecond), null);
    }

    private static string Text(int value) => value.ToString(CultureInfo.InvariantCulture);

    private sealed record ScriptOutput(
        [property: JsonPropertyName("torch")] string Torch,
        [property: JsonPropertyName("threads")] int Threads,
        [property: JsonPropertyName("blas")] string? Blas,
        [property: JsonPropertyName("tokens_per_s")] double[] TokensPerSecond);
}

/// <summary>Figures of <see cref="TorchReference"/>.</summary>
/// <param name="Torch">torch's version, or null when skipped.</param>
/// <param name="Threads">torch threads.</param>
/// <param name="Blas">The BLAS library torch loaded (Debian's reference BLAS is several times slower than OpenBLAS).</param>
/// <param name="TokensPerSecond">Tokens/s of one stream over the repeats, or null when skipped.</param>
/// <param name="SkipReason">Why it did not run, or null.</param>
public sealed record TorchReferenceResult(string? Torch, int Threads, string? Blas, Summary? TokensPerSecond, string? SkipReason)
{
    /// <summary>A reference that did not run, and why.</summary>
    public static TorchReferenceResult Skipped(int threads, string reason) => new(null, threads, null, null, reason);
}
