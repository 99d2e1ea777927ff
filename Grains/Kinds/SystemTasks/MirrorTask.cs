using System.Globalization;
using PoolAI.Execution;
using PoolAI.Jobs;
using PoolAI.Models;
using PoolAI.Placement;
using PoolAI.Volumes;

namespace PoolAI.Kinds.SystemTasks;

/// <summary>
/// The <see cref="Jobs.SystemTasks.Mirror"/> task: copies a volume file into the models directory of every miner that
/// serves a model (or of every miner), through each miner's <see cref="IModelMirrorGrain"/>, so that a checkpoint
/// published to a volume becomes servable there without copying files by hand. A miner is an active silo that
/// advertises a worker id; which models it serves is its <see cref="PoolKeys.ModelsMetadata"/>.
/// </summary>
/// <param name="grains">The cluster.</param>
/// <param name="membership">Which silos are active.</param>
/// <param name="metadata">What each silo advertises.</param>
public sealed class MirrorTask(IGrainFactory grains, IClusterMembershipService membership, SiloMetadataLookup metadata)
{
    /// <summary>Runs the task; returns a line for the file and one per miner.</summary>
    /// <exception cref="JobValidationException">Field <c>input.parameters.volume</c> (no such volume), <c>input.parameters.path</c> (no such file, or none recorded SHA-256), <c>input.parameters.model</c> (no miner serves it) or <c>input.parameters.to</c> (no miner at all).</exception>
    /// <exception cref="InvalidOperationException">A miner's copy failed or did not match the SHA-256; the message has every miner's result.</exception>
    public async Task<SystemTaskOutput> RunAsync(JobExecution<SystemTaskInput> job, CancellationToken cancellationToken)
    {
        var parameters = MirrorParameters.Parse(job.Input);
        var file = await FileAsync(parameters);
        var targets = Targets(parameters);
        job.Report(0, targets.Count, "miners", $"copying {file.Length} bytes to {targets.Count} miner{(targets.Count == 1 ? "" : "s")}");
        var done = 0;
        var results = await Task.WhenAll(targets.Select(async silo =>
        {
            cancellationToken.ThrowIfCancellationRequested();
            var result = await grains.GetGrain<IModelMirrorGrain>(silo.ToString()).MirrorAsync(parameters.Volume, parameters.Path);
            var count = Interlocked.Increment(ref done);
            job.Report(count, targets.Count, "miners", $"{result.Worker ?? result.Silo}: {(result.Sha256Ok ? "copied" : "failed")}");
            return result;
        }));
        var ordered = results.OrderBy(r => r.Worker ?? r.Silo, StringComparer.Ordinal).ToList();
        var summary = Summary(parameters, file, ordered);
        if (ordered.Any(r => !r.Sha256Ok))
            throw new InvalidOperationException(summary);
        return new SystemTaskOutput(summary, []);
    }

    /// <summary>The file, which must exist and have a recorded SHA-256.</summary>
    private async Task<VolumeFile> FileAsync(MirrorParameters parameters)
    {
        FileLayout layout;
        try
        {
            layout = await grains.GetGrain<IVolumeGrain>(parameters.Volume).OpenFileAsync(parameters.Path);
        }
        catch (VolumeNotFoundException e) when (e.Path is null)
        {
            throw new JobValidationException("input.parameters.volume", $"no volume named '{parameters.Volume}'");
        }
        catch (VolumeNotFoundException)
        {
            throw new JobValidationException("input.parameters.path", $"no file '{parameters.Path}' in volume '{parameters.Volume}'");
        }

        if (layout.File.Sha256.Length == 0)
            throw new JobValidationException("input.parameters.path", $"'{parameters.Path}' has no SHA-256 recorded in volume '{parameters.Volume}' to check copies against; write it again with a client that records one");
        return layout.File;
    }

    /// <summary>The active silos with a worker id that serve the model asked for (all of them for <c>to=all</c>), by worker id.</summary>
    private List<SiloAddress> Targets(MirrorParameters parameters)
    {
        var miners = membership.CurrentSnapshot.Members.Values
            .Where(m => m.Status == SiloStatus.Active)
            .Select(m => (m.SiloAddress, Metadata: metadata.Of(m.SiloAddress)))
            .Where(m => m.Metadata.ContainsKey(PoolKeys.WorkerMetadata))
            .OrderBy(m => m.Metadata[PoolKeys.WorkerMetadata], StringComparer.Ordinal)
            .ToList();
        if (parameters.ServedBy is not { } model)
        {
            return miners.Count > 0
                ? [.. miners.Select(m => m.SiloAddress)]
                : throw new JobValidationException("input.parameters.to", "no miner is in the pool");
        }

        var serving = miners.Where(m => SiloCapabilities.Models(m.Metadata).Contains(model, StringComparer.Ordinal)).Select(m => m.SiloAddress).ToList();
        if (serving.Count > 0)
            return serving;
        var served = miners.SelectMany(m => SiloCapabilities.Models(m.Metadata)).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        throw new JobValidationException("input.parameters.model", $"no miner serves model '{model}'; served: {(served.Count == 0 ? "none" : string.Join(", ", served))} (to=all copies to every miner)");
    }

    private static string Summary(MirrorParameters parameters, VolumeFile file, IReadOnlyList<ModelMirrorResult> results)
    {
        var invariant = CultureInfo.InvariantCulture;
        var ok = results.Count(r => r.Sha256Ok);
        var lines = new List<string>
        {
            string.Create(invariant, $"mirror {parameters.Volume}/{parameters.Path} ({file.Length} bytes, sha256 {file.Sha256}) as model {parameters.Model}: {ok} of {results.Count} miner{(results.Count == 1 ? "" : "s")} ok"),
        };
        lines.AddRange(results.Select(r => string.Create(invariant,
            $"{r.Worker ?? "-"} ({r.Silo}): {r.Path}, {r.Bytes} bytes, sha256 {(r.Sha256Ok ? "ok" : "FAILED")}, {(r.Registered ? $"model {r.Model} registered" : $"model {r.Model} not registered (no {ModelCheckpoint.ConfigFile} yet)")}{(r.Error is null ? "" : "; " + r.Error)}")));
        return string.Join('\n', lines);
    }
}
