using PoolAI.Jobs;

namespace PoolAI.Artifacts;

/// <summary>
/// An artifact's persisted description (state name <c>artifact</c>). Its content is either file
/// <c>artifacts/&lt;id&gt;</c> of volume <see cref="Volume"/>, or, when that is null, chunk records
/// <c>artifact-chunk-N</c> beside this state.
/// </summary>
[GenerateSerializer, Alias("poolai.ArtifactState")]
public sealed class ArtifactState
{
    /// <summary>The artifact once its content is complete and checked; null before.</summary>
    [Id(0)] public ArtifactRef? Artifact { get; set; }

    /// <summary>When it was completed (before that, when its upload began).</summary>
    [Id(1)] public DateTimeOffset StoredAt { get; set; }

    /// <summary>Jobs holding it, each with the end of its hold.</summary>
    [Id(2)] public Dictionary<Guid, DateTimeOffset> Holds { get; set; } = [];

    /// <summary>Highest chunk index written so far plus one (chunks beyond the content are cleared with it); for content in a volume, 1 while an upload is under way.</summary>
    [Id(3)] public int ChunksWritten { get; set; }

    /// <summary>
    /// The volume whose file <c>artifacts/&lt;id&gt;</c> holds the content (see <see cref="ArtifactVolume"/>); null when the
    /// content is in chunk records. A state stored before artifacts moved to volumes has no such field and reads as null:
    /// its chunks stay readable.
    /// </summary>
    [Id(4)] public string? Volume { get; set; }
}

/// <summary>One stored chunk of an artifact's content.</summary>
[GenerateSerializer, Alias("poolai.ArtifactChunk")]
public sealed class ArtifactChunk
{
    /// <summary>The bytes.</summary>
    [Id(0)] public byte[] Data { get; set; } = [];
}
