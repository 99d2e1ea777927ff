using PoolAI.Jobs;
using PoolAI.Models;
using PoolAI.Volumes;

namespace PoolAI.Kinds.SystemTasks;

/// <summary>The parameters of a <see cref="Jobs.SystemTasks.Mirror"/> task.</summary>
/// <param name="Volume">The volume holding the file.</param>
/// <param name="Path">The file's path in it (normalised), <c>…/MODEL/FILE</c>.</param>
/// <param name="Model">The model the file belongs to: the folder holding it (see <see cref="MirroredModels"/>).</param>
/// <param name="ServedBy">Copy to the miners that serve this model; null to copy to every miner (<c>to=all</c>).</param>
public sealed record MirrorParameters(string Volume, string Path, string Model, string? ServedBy)
{
    /// <summary>The parameter names the task takes.</summary>
    public static readonly IReadOnlyList<string> Names = ["volume", "path", "model", "to"];

    /// <summary>Reads and checks the parameters.</summary>
    /// <exception cref="JobValidationException">
    /// Field <c>input.parameters.volume</c> (missing or not a volume name), <c>input.parameters.path</c> (missing, not
    /// <c>…/MODEL/FILE</c>, or in another model's folder than <c>model</c>), <c>input.parameters.model</c> (neither it nor
    /// <c>to</c> given) or <c>input.parameters.to</c> (not <c>all</c>, or given with <c>model</c>).
    /// </exception>
    public static MirrorParameters Parse(SystemTaskInput input)
    {
        var parameters = input.Parameters ?? new Dictionary<string, string>();
        var volume = VolumeNames.CheckName(parameters.GetValueOrDefault("volume"), "input.parameters.volume");
        var path = VolumeNames.CheckPath(parameters.GetValueOrDefault("path"), "input.parameters.path");
        var (model, _) = MirroredModels.Target(path, "input.parameters.path");
        var servedBy = parameters.GetValueOrDefault("model");
        var to = parameters.GetValueOrDefault("to");
        if (servedBy is not null && to is not null)
            throw new JobValidationException("input.parameters.to", "give either model=MODEL (the miners that serve it) or to=all (every miner), not both");
        if (to is not null && to != "all")
            throw new JobValidationException("input.parameters.to", $"must be 'all' (every miner); was '{to}'");
        if (servedBy is null && to is null)
            throw new JobValidationException("input.parameters.model", "is required unless to=all: the miners that serve this model get the file");
        if (servedBy is not null && servedBy != model)
            throw new JobValidationException("input.parameters.path", $"'{path}' is in the folder '{model}', which names model '{model}', not '{servedBy}': a mirrored file lands in the folder of the model it belongs to");
        return new MirrorParameters(volume, path, model, servedBy);
    }
}
