using Orleans.Placement;
using Orleans.Runtime.Placement;
using PoolAI.Placement;

namespace PoolAI.Inference;

/// <summary>Placement filter: a grain keyed by a model id may only activate on silos whose metadata lists that model.</summary>
public sealed class ServesModelFilterStrategy() : PlacementFilterStrategy(order: 0);

/// <summary>Confines a grain keyed by model id to silos that advertise the model in <see cref="PoolKeys.ModelsMetadata"/>.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
public sealed class ServesModelFilterAttribute() : PlacementFilterAttribute(new ServesModelFilterStrategy());

/// <summary>
/// Keeps the silos whose <see cref="PoolKeys.ModelsMetadata"/> contains the target grain's model and that may get new
/// work (<see cref="WorkerAvailability"/>: not paused, in maintenance, banned, offline or suspected); for a key pinned
/// to a silo (<see cref="InferenceKeys.Pinned"/>), only that silo, whose slot the queue has already checked.
/// </summary>
public sealed class ServesModelFilterDirector(SiloMetadataLookup metadata, WorkerAvailability availability) : IPlacementFilterDirector
{
    /// <inheritdoc />
    public IEnumerable<SiloAddress> Filter(PlacementFilterStrategy filterStrategy, PlacementTarget target, IEnumerable<SiloAddress> silos)
    {
        var (model, pinned) = InferenceKeys.Parse(target.GrainIdentity.Key.ToString()!);
        return silos.Where(silo =>
        {
            if (pinned is not null)
                return string.Equals(silo.ToString(), pinned, StringComparison.Ordinal) && SiloCapabilities.Serves(metadata.Of(silo), model);
            var siloMetadata = metadata.Of(silo);
            return SiloCapabilities.Serves(siloMetadata, model) && availability.IsAvailable(silo, siloMetadata);
        });
    }
}

/// <summary>Reads PoolAI's entries in silo metadata.</summary>
public static class SiloCapabilities
{
    /// <summary>
    /// True when the metadata lists <paramref name="model"/> among the served models, or <paramref name="model"/> is a
    /// built-in system task (<see cref="Jobs.SystemTasks"/>) and the silo is a miner (it serves some model).
    /// </summary>
    public static bool Serves(IReadOnlyDictionary<string, string> metadata, string model)
    {
        var models = Models(metadata);
        return models.Contains(model, StringComparer.Ordinal) || (models.Count > 0 && Jobs.SystemTasks.Contains(model));
    }

    /// <summary>A size in MiB from metadata key <paramref name="key"/>; 0 when absent or not a number.</summary>
    public static long Megabytes(IReadOnlyDictionary<string, string> metadata, string key) =>
        metadata.TryGetValue(key, out var value) && long.TryParse(value, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n) ? n : 0;

    /// <summary>Models the silo serves.</summary>
    public static IReadOnlyList<string> Models(IReadOnlyDictionary<string, string> metadata) =>
        metadata.TryGetValue(PoolKeys.ModelsMetadata, out var models)
            ? models.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            : [];

    /// <summary>Generations the silo runs at once (0 when it serves nothing).</summary>
    public static int Slots(IReadOnlyDictionary<string, string> metadata) =>
        metadata.TryGetValue(PoolKeys.SlotsMetadata, out var slots) && int.TryParse(slots, out var n) && n > 0 ? n : 0;
}
