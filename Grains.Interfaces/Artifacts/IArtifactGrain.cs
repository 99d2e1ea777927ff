using PoolAI.Jobs;

namespace PoolAI.Artifacts;

/// <summary>
/// One artifact, keyed by the lower-case hex SHA-256 of its content (<see cref="ArtifactRef.Id"/>), on a coordinator:
/// its description, its content in chunks of <see cref="ArtifactLimits.ChunkSize"/> bytes, and the jobs that hold it.
/// The content is a file of the pool's artifact volume while volumes are usable, else chunk records of the pool's grain
/// storage; either way it is written and read in the same chunks, so callers cannot tell which.
/// Content is written chunk by chunk and becomes readable only once <see cref="CompleteAsync"/> has checked the hash of
/// the whole, so a reader never sees a torn artifact and the same bytes uploaded twice are stored once. It is deleted
/// when the last hold has ended (a job's hold ends its artifact retention after the job ends).
/// </summary>
[Alias("poolai.IArtifactGrain")]
public interface IArtifactGrain : IGrainWithStringKey
{
    /// <summary>The artifact when its content is stored and checked; null when it is not (never written, incomplete, or deleted).</summary>
    [Alias("Get")]
    Task<ArtifactRef?> GetAsync();

    /// <summary>Stores chunk <paramref name="index"/> (0-based) of the content; every chunk but the last has exactly
    /// <see cref="ArtifactLimits.ChunkSize"/> bytes. A no-op once the artifact is complete. An upload that begins at chunk
    /// 0 may stream into a volume file: then chunks go in order (a chunk already written is skipped, so an upload may
    /// start again from 0), and one beyond the next is refused.</summary>
    /// <exception cref="ArgumentException">The chunk is empty or too large, the index is negative or beyond <see cref="ArtifactLimits.MaxSize"/>,
    /// or, for content streamed into a volume, beyond the next chunk (or not 0 after the upload was interrupted).</exception>
    [Alias("WriteChunk")]
    Task WriteChunkAsync(int index, byte[] data);

    /// <summary>
    /// Checks that the chunks written hold exactly <paramref name="artifact"/>'s size and hash (its id), then makes the
    /// artifact readable (content streamed into a volume: its file is committed only then, and must be committed with
    /// that SHA-256). Until a job holds it, it is kept for <see cref="ArtifactLimits.UnclaimedRetention"/>. Idempotent.
    /// </summary>
    /// <exception cref="ArgumentException">The content does not match (wrong size or hash; the chunks are discarded),
    /// the id is not this grain's key, or a field breaks a rule (named in the message).</exception>
    [Alias("Complete")]
    Task<ArtifactRef> CompleteAsync(ArtifactRef artifact);

    /// <summary>Chunk <paramref name="index"/> of a complete artifact.</summary>
    /// <exception cref="KeyNotFoundException">The artifact is not stored (or no longer).</exception>
    /// <exception cref="ArgumentOutOfRangeException">No such chunk.</exception>
    [Alias("ReadChunk")]
    Task<byte[]> ReadChunkAsync(int index);

    /// <summary>
    /// Job <paramref name="jobId"/> holds the artifact until <paramref name="until"/> (<see cref="DateTimeOffset.MaxValue"/>
    /// while the job runs); a later call by the same job replaces its hold. Returns false when the artifact is not stored.
    /// </summary>
    [Alias("Hold")]
    Task<bool> HoldAsync(Guid jobId, DateTimeOffset until);

    /// <summary>
    /// Deletes the artifact (or an upload never completed) when its time has come: every hold has ended (or, for one no
    /// job ever held, the unclaimed retention). Otherwise forgets the holds that ended and returns when it may be deleted
    /// next; null when it is deleted (or was never stored). Called by the artifact index.
    /// </summary>
    [Alias("Sweep")]
    Task<DateTimeOffset?> SweepAsync();

    /// <summary>The artifact with its holds, for admins and tests; null when not stored.</summary>
    [Alias("Describe")]
    Task<ArtifactInfo?> DescribeAsync();
}

/// <summary>An artifact and who holds it.</summary>
/// <param name="Artifact">The artifact.</param>
/// <param name="StoredAt">When its content was completed.</param>
/// <param name="Holds">Jobs holding it, each with the end of its hold.</param>
/// <param name="RetainUntil">When it is deleted unless held longer: the latest hold's end (or the unclaimed retention).</param>
/// <param name="Volume">The volume whose file <c>artifacts/&lt;id&gt;</c> holds its content; null when the content is in chunk records of the pool's grain storage.</param>
[GenerateSerializer, Immutable, Alias("poolai.ArtifactInfo")]
public sealed record ArtifactInfo(
    [property: Id(0)] ArtifactRef Artifact,
    [property: Id(1)] DateTimeOffset StoredAt,
    [property: Id(2)] IReadOnlyDictionary<Guid, DateTimeOffset> Holds,
    [property: Id(3)] DateTimeOffset RetainUntil,
    [property: Id(4)] string? Volume = null);

/// <summary>
/// The pool's list of stored artifacts with the time each may be deleted (key <see cref="Key"/>, on a coordinator). It
/// sweeps every <see cref="SweepInterval"/>: an artifact whose time has come is asked to sweep itself, and is forgotten
/// once deleted. Not on any job's hot path: artifacts are recorded when their content is completed or held longer.
/// </summary>
[Alias("poolai.IArtifactIndexGrain")]
public interface IArtifactIndexGrain : IGrainWithStringKey
{
    /// <summary>The only key.</summary>
    public const string Key = "default";

    /// <summary>How often it sweeps.</summary>
    public static readonly TimeSpan SweepInterval = TimeSpan.FromMinutes(1);

    /// <summary>Records (or moves) the time <paramref name="artifact"/> may be deleted. One-way: an artifact never waits on
    /// the index (the index waits on artifacts while it sweeps).</summary>
    [Alias("Record"), OneWay]
    Task RecordAsync(ArtifactRef artifact, DateTimeOffset retainUntil);

    /// <summary>Forgets a deleted artifact.</summary>
    [Alias("Forget")]
    Task ForgetAsync(string artifactId);

    /// <summary>Artifacts stored: count and bytes.</summary>
    [Alias("GetStats")]
    Task<ArtifactStoreStats> GetStatsAsync();

    /// <summary>Sweeps now (also done every <see cref="SweepInterval"/>); returns how many artifacts were deleted.</summary>
    [Alias("Sweep")]
    Task<int> SweepAsync();
}

/// <summary>What the artifact store holds.</summary>
/// <param name="Artifacts">Artifacts stored.</param>
/// <param name="Bytes">Their content, bytes.</param>
[GenerateSerializer, Immutable, Alias("poolai.ArtifactStoreStats")]
public sealed record ArtifactStoreStats([property: Id(0)] int Artifacts, [property: Id(1)] long Bytes);

/// <summary>Limits of the artifact store.</summary>
public static class ArtifactLimits
{
    /// <summary>Bytes per stored chunk (1 MiB): one grain call and one storage record each.</summary>
    public const int ChunkSize = 1 << 20;

    /// <summary>Largest artifact, bytes (2 GiB).</summary>
    public const long MaxSize = 2L << 30;

    /// <summary>Longest artifact name, characters.</summary>
    public const int MaxNameLength = 255;

    /// <summary>How long an artifact that no job holds is kept after it is completed.</summary>
    public static readonly TimeSpan UnclaimedRetention = TimeSpan.FromHours(1);

    /// <summary>True when <paramref name="id"/> is a lower-case hex SHA-256 (64 characters).</summary>
    public static bool IsId(string? id) => id is { Length: 64 } && id.All(c => char.IsAsciiDigit(c) || c is >= 'a' and <= 'f');
}
