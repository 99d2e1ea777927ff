using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.Json;
using PoolAI.Execution;
using PoolAI.Inference;
using PoolAI.Jobs;
using PoolAI.Libraries;
using PoolAI.Placement;

namespace PoolAI.Kinds.SystemTasks;

/// <summary>
/// Runs the built-in system tasks on this silo: <see cref="Jobs.SystemTasks.Noop"/> does nothing;
/// <see cref="Jobs.SystemTasks.Probe"/> measures the silo (hardware, native libraries, and the speed of a short greedy
/// generation on every model it serves) and stores the report as the JSON artifact <c>probe.json</c>;
/// <see cref="Jobs.SystemTasks.Migrate"/> (<see cref="MigrateTask"/>) empties a silo before maintenance and
/// <see cref="Jobs.SystemTasks.Mirror"/> (<see cref="MirrorTask"/>) copies a volume file into miners' models directories.
/// </summary>
/// <param name="host">The silo's loaded models.</param>
/// <param name="served">The models the silo serves now (null on a silo that serves none).</param>
/// <param name="metadata">What the silo advertises.</param>
/// <param name="migrate">The migrate task.</param>
/// <param name="mirror">The mirror task.</param>
public sealed class SystemTaskExecutor(ModelHost host, Models.ServedModels? served, LocalSiloMetadata metadata, MigrateTask migrate, MirrorTask mirror) : IJobExecutor<SystemTaskInput, SystemTaskOutput>
{
    private static readonly JsonSerializerOptions ReportJson = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower, WriteIndented = true };

    /// <inheritdoc />
    public Task<SystemTaskOutput> ExecuteAsync(JobExecution<SystemTaskInput> job, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return job.Target switch
        {
            Jobs.SystemTasks.Noop => Task.FromResult(new SystemTaskOutput(string.Empty, [])),
            Jobs.SystemTasks.Probe => ProbeAsync(job, cancellationToken),
            Jobs.SystemTasks.Migrate => migrate.RunAsync(job, cancellationToken),
            Jobs.SystemTasks.Mirror => mirror.RunAsync(job, cancellationToken),
            _ => throw new JobValidationException("model", $"'{job.Target}' is not a system task; known: {string.Join(", ", Jobs.SystemTasks.All)}"),
        };
    }

    private async Task<SystemTaskOutput> ProbeAsync(JobExecution<SystemTaskInput> job, CancellationToken cancellationToken)
    {
        var tokens = SystemTaskKind.ProbeTokens(job.Input);
        var models = new List<ProbedModel>();
        var serving = served?.Current ?? SiloCapabilities.Models(metadata.Values);
        for (var i = 0; i < serving.Count; i++)
        {
            job.Report(i, serving.Count, "models", $"generating {tokens} tokens on {serving[i]}");
            var loaded = host.Get(serving[i]).Model;
            var (prompt, parameters) = (loaded.Tokenizer.Vocabulary[..1], loaded.Model.ParameterCount); // read now: a batcher retired meanwhile frees its model
            var watch = Stopwatch.StartNew();
            var (outcome, _) = await host.GenerateAsync(serving[i], new GenerationSettings(prompt, tokens, Temperature: 0), null, cancellationToken);
            models.Add(new ProbedModel(serving[i], parameters, outcome.Tokens, outcome.Elapsed.TotalMilliseconds,
                outcome.Elapsed > TimeSpan.Zero ? Math.Round(outcome.Tokens / outcome.Elapsed.TotalSeconds, 1) : 0, watch.Elapsed.TotalMilliseconds));
        }

        job.Report(serving.Count, serving.Count, "models");
        var libraries = TorchLibraries.Inspect();
        var report = new ProbeReport(
            job.Silo,
            metadata.Values.GetValueOrDefault(PoolKeys.WorkerMetadata),
            metadata.Values.GetValueOrDefault(PoolKeys.DeviceMetadata) ?? "cpu",
            Environment.ProcessorCount,
            SiloCapabilities.Megabytes(metadata.Values, PoolKeys.MemoryMetadata),
            SiloCapabilities.Megabytes(metadata.Values, PoolKeys.GpuMemoryMetadata),
            RuntimeInformation.OSDescription,
            RuntimeInformation.ProcessArchitecture.ToString(),
            Environment.Version.ToString(),
            new ProbedLibraries(libraries.Status, libraries.TorchSharpVersion, libraries.LibTorchVersion, libraries.Threads),
            models,
            DateTimeOffset.UtcNow);
        var artifact = await job.StoreArtifactAsync(JsonSerializer.SerializeToUtf8Bytes(report, ReportJson), "application/json", "probe.json", cancellationToken);
        var speeds = models.Count == 0 ? "serves no model" : string.Join(", ", models.Select(m => $"{m.Model} {m.TokensPerSecond:0.#} tokens/s"));
        return new SystemTaskOutput($"probe of {job.Silo}: {report.Cores} cores, {report.Device}; {speeds}", [artifact]);
    }

    /// <summary>The probe's report (<c>probe.json</c>).</summary>
    private sealed record ProbeReport(
        string Silo, string? Worker, string Device, int Cores, long MemoryMb, long GpuMemoryMb, string Os, string Architecture, string Dotnet,
        ProbedLibraries Libraries, IReadOnlyList<ProbedModel> Models, DateTimeOffset MeasuredAt);

    /// <summary>The native ML libraries as the library manager found them.</summary>
    private sealed record ProbedLibraries(string Status, string TorchSharp, string? LibTorch, int Threads);

    /// <summary>One model's greedy generation: tokens, the generation's own time (ms) and rate, and the wall time with waiting and loading (ms).</summary>
    private sealed record ProbedModel(string Model, long Parameters, int Tokens, double ElapsedMs, double TokensPerSecond, double WallMs);
}
