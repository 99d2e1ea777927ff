using System.ComponentModel.DataAnnotations;
using PoolAI.Jobs;
using PoolAI.Volumes;

namespace PoolAI.Artifacts;

/// <summary>Where artifact content is kept (configuration section <c>PoolAI:Artifacts</c>), on coordinators.</summary>
public sealed class ArtifactOptions : IValidatableObject
{
    /// <summary>Configuration section.</summary>
    public const string Section = "PoolAI:Artifacts";

    /// <summary>
    /// The volume that holds artifact content, as files <c>artifacts/&lt;sha256&gt;</c>; the pool creates it on first
    /// use with <see cref="VolumeLayout"/>. A volume name: 3–63 characters of <c>a-z</c>, <c>0-9</c> and <c>-</c>.
    /// </summary>
    public string Volume { get; set; } = "jobs";

    /// <summary>
    /// The layout the volume is created with: <c>auto</c> (see <see cref="ArtifactLayouts.Choose"/>: <c>rs:4+2</c> with
    /// at least 6 live stores, else <c>mirror:N</c> with N = min(3, live stores)), or <c>rs:K+M</c> / <c>mirror:N</c>.
    /// Used only when the pool creates the volume; a volume that exists keeps its layout.
    /// </summary>
    public string VolumeLayout { get; set; } = ArtifactLayouts.Auto;

    /// <inheritdoc />
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!VolumeNames.IsValid(Volume))
            yield return new ValidationResult($"{Section}:Volume must be 3 to {VolumeNames.MaxNameLength} characters of a-z, 0-9 and '-', starting and ending with a letter or digit; was '{Volume}'", [nameof(Volume)]);
        string? layoutError = null;
        try
        {
            ArtifactLayouts.Check(VolumeLayout);
        }
        catch (JobValidationException e)
        {
            layoutError = e.Rule;
        }

        if (layoutError is not null)
            yield return new ValidationResult($"{Section}:VolumeLayout must be 'auto', rs:K+M or mirror:N ({layoutError}); was '{VolumeLayout}'", [nameof(VolumeLayout)]);
    }
}
