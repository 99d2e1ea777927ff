using PoolAI.Jobs;
using PoolAI.Volumes;

namespace PoolAI.Models;

/// <summary>
/// Where a file mirrored from a volume (the <c>mirror</c> system task) lands on a silo: the volume path
/// <c>…/MODEL/FILE</c> becomes <c>MODELS/MODEL/FILE</c> in the silo's models directory (<see cref="ModelRegistry.Directory"/>).
/// The folder that holds the file in the volume names the model, as the folder of a checkpoint names it in the registry;
/// so a <c>models</c> volume laid out like a models directory (<c>shakespeare-char/config.json</c>,
/// <c>shakespeare-char/model.bin</c>) mirrors into one. The registry knows a model once its folder holds
/// <c>config.json</c>: mirror the weights first and the config last.
/// </summary>
public static class MirroredModels
{
    /// <summary>Longest model id a mirrored file may name, characters.</summary>
    public const int MaxModelIdLength = 128;

    /// <summary>Name prefix of a file being mirrored, beside its target until its SHA-256 is checked and it is renamed into place.</summary>
    public const string TemporaryPrefix = ".mirror-";

    /// <summary>True for 1 to <see cref="MaxModelIdLength"/> characters of <c>a-z</c>, <c>A-Z</c>, <c>0-9</c>, <c>.</c>, <c>_</c> and <c>-</c>, not starting with <c>.</c>.</summary>
    public static bool IsModelId(string? id) =>
        id is { Length: >= 1 and <= MaxModelIdLength } && id[0] != '.' && id.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-');

    /// <summary>The model and file name a volume file mirrors to: the folder holding it and its name.</summary>
    /// <param name="path">The file's path in the volume, e.g. <c>shakespeare-char/model.bin</c>.</param>
    /// <param name="field">The field named in errors.</param>
    /// <exception cref="JobValidationException">Field <paramref name="field"/>: not a path (<see cref="VolumeNames.CheckPath"/>), a file at the volume's root, a folder name that is not a model id, or a file name starting with <c>.</c>.</exception>
    public static (string Model, string File) Target(string? path, string field = "path")
    {
        var segments = VolumeNames.CheckPath(path, field).Split('/');
        if (segments.Length < 2)
            throw new JobValidationException(field, $"'{segments[0]}' is at the volume's root; a mirrored file is MODEL/FILE (e.g. shakespeare-char/model.bin): the folder that holds it names the model");
        var (model, file) = (segments[^2], segments[^1]);
        if (!IsModelId(model))
            throw new JobValidationException(field, $"the folder '{model}' that holds the file names the model, and a model id is 1 to {MaxModelIdLength} characters of a-z, A-Z, 0-9, '.', '_' and '-', not starting with '.'");
        if (file.StartsWith('.'))
            throw new JobValidationException(field, $"the file name '{file}' starts with '.': hidden and temporary files are not mirrored");
        return (model, file);
    }
}
