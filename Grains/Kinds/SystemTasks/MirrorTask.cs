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
/// advertises a worker id; which models it serves is its <see cref="PoolKeys.ModelsMetadata"/> as the pool knows it now
/// (a miner that serves every model in its registry adds a model mirrored onto it, see <see cref="ServedModels"/>). A
/// model's <c>config.json</c> also goes to every coordinator, whose registry then accepts jobs for the model; the
/// coordinators' copies come after the miners', and each coordinator reads the miners' served models again, so that a
/// job submitted once the task has succeeded is placed on the miners that serve the model now.
/// </summary>
/// <param name="grains">The cluster.</param>
/// <param name="membership">Which silos are active.</param>
/// <param name="metadata">What each silo advertises.</param>
/// <param name="availability">This silo's copy of the worker board (models served now), read again before choosing miners.</param>
public sealed class MirrorTask(IGrainFactory grains, IClusterMembershipService membership, SiloMetadataLookup metadata, WorkerAvailability availability)
{
    /// <summary>Runs the task; returns a line for the file and one per miner.</summary>
    /// <exception cref="JobValidationException">Field <c>input.parameters.volume</c> (no such volume), <c>input.parameters.path</c> (no such file, or none recorded SHA-256), <c>input.parameters.model</c> (no miner serves it) or <c>input.parameters.to</c> (no miner at all).</exception>
    /// <exception cref="InvalidOperationException">A miner's copy failed or did not match the SHA-256; the message has every miner's result.</exception>
    public async Task<SystemTaskOutput> RunAsync(JobExecution<SystemTaskInput> job, CancellationToken cancellationToken)
    {
        var parameters = MirrorParameters.Parse(job.Input);
        var file = await FileAsync(parameters);
        await availability.RefreshAsync();
        var targets = Targets(parameters);
        var coordinators = Path.GetFileName(parameters.Path) == ModelCheckpoint.ConfigFile ? Coordinators(targets) : [];
        var total = targets.Count + coordinators.Count;
        var silos = $"{total} silo{(total == 1 ? "" : "s")}";
        job.Report(0, total, "silos", $"copying {file.Length} bytes to {silos}");
        var done = 0;
        async Task<ModelMirrorResult> CopyAsync(SiloAddress silo)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var result = await grains.GetGrain<IModelMirrorGrain>(silo.ToString()).MirrorAsync(parameters.Volume, parameters.Path);
            var count = Interlocked.Increment(ref done);
            job.Report(count, total, "silos", $"{result.Worker ?? result.Silo}: {(result.Sha256Ok ? "copied" : "failed")}");
            return result;
        }

        var results = (await Task.WhenAll(targets.Select(CopyAsync))).ToList();
        results.AddRange(await Task.WhenAll(coordinators.Select(CopyAsync)));
        var ordered = results.OrderBy(r => r.Worker is null).ThenBy(r => r.Worker ?? r.Silo, StringComparer.Ordinal).ToList();
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

    /// <summary>The active coordinator silos not among <paramref name="miners"/> (an all-in-one silo is both).</summary>
    private List<SiloAddress> Coordinators(IReadOnlyCollection<SiloAddress> miners) =>
        [.. membership.CurrentSnapshot.Members.Values
            .Where(m => m.Status == SiloStatus.Active && !miners.Contains(m.SiloAddress) && CoordinatorFilterDirector.IsCoordinator(metadata.Of(m.SiloAddress)))
            .Select(m => m.SiloAddress)
            .OrderBy(a => a.ToString(), StringComparer.Ordinal)];

    private static string Registration(ModelMirrorResult r) =>
        !r.Registered ? $"model {r.Model} not registered (no {ModelCheckpoint.ConfigFile} yet)"
        : r.Worker is null ? $"model {r.Model} registered"
        : r.Served ? $"model {r.Model} registered and served"
        : $"model {r.Model} registered, not served (the miner serves only its configured models)";

    private static string Summary(MirrorParameters parameters, VolumeFile file, IReadOnlyList<ModelMirrorResult> results)
    {
        var invariant = CultureInfo.InvariantCulture;
        var ok = results.Count(r => r.Sha256Ok);
        var lines = new List<string>
        {
            string.Create(invariant, $"mirror {parameters.Volume}/{parameters.Path} ({file.Length} bytes, sha256 {file.Sha256}) as model {parameters.Model}: {ok} of {results.Count} silo{(results.Count == 1 ? "" : "s")} ok"),
        };
        lines.AddRange(results.Select(r => string.Create(invariant,
            $"{r.Worker ?? "coordinator"} ({r.Silo}): {r.Path}, {r.Bytes} bytes, sha256 {(r.Sha256Ok ? "ok" : "FAILED")}, {Registration(r)}{(r.Error is null ? "" : "; " + r.Error)}")));
        return string.Join('\n', lines);
    }
}
