namespace PoolAI.Jobs;

/// <summary>
/// A file a job produced or consumes (an image, a checkpoint, a data shard, a report), stored by the pool and named by
/// its content: the same bytes are the same artifact, stored once. Fetch it by <paramref name="Id"/> through the SDK
/// (<c>PoolClient.GetArtifactAsync</c>), the CLI (<c>poolai artifact get</c>) or the gateway
/// (<c>GET /api/jobs/{job}/artifacts/{id}</c>). It is kept for the pool's artifact retention after its job ends.
/// </summary>
/// <param name="Id">Lower-case hex SHA-256 of the content (64 characters).</param>
/// <param name="Size">Content length, bytes.</param>
/// <param name="MediaType">IANA media type, e.g. <c>image/png</c>, <c>application/json</c>.</param>
/// <param name="Name">A file name for people and downloads (no folders), e.g. <c>report.json</c>.</param>
[GenerateSerializer, Immutable, Alias("poolai.ArtifactRef")]
public sealed record ArtifactRef(
    [property: Id(0)] string Id,
    [property: Id(1)] long Size,
    [property: Id(2)] string MediaType,
    [property: Id(3)] string Name);

/// <summary>
/// The last checkpoint of a job's work: an artifact that lets a later attempt resume instead of starting again (after a
/// requeue), and what a cancelled job keeps.
/// </summary>
/// <param name="Artifact">The checkpoint's content.</param>
/// <param name="Step">The progress step it was taken at (see <see cref="JobProgress.Step"/>).</param>
/// <param name="Attempt">The attempt that wrote it.</param>
/// <param name="At">When it was stored.</param>
[GenerateSerializer, Immutable, Alias("poolai.JobCheckpoint")]
public sealed record JobCheckpoint(
    [property: Id(0)] ArtifactRef Artifact,
    [property: Id(1)] long Step,
    [property: Id(2)] int Attempt,
    [property: Id(3)] DateTimeOffset At);
