using System.Security.Cryptography;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Storage;
using PoolAI.Jobs;
using PoolAI.Placement;
using PoolAI.Storage;

namespace PoolAI.Artifacts;

/// <summary>An artifact's persisted description (state name <c>artifact</c>); its content is in chunk records <c>artifact-chunk-N</c>.</summary>
[GenerateSerializer, Alias("poolai.ArtifactState")]
public sealed class ArtifactState
{
    /// <summary>The artifact once its content is complete and checked; null before.</summary>
    [Id(0)] public ArtifactRef? Artifact { get; set; }

    /// <summary>When it was completed (before that, when its upload began).</summary>
    [Id(1)] public DateTimeOffset StoredAt { get; set; }

    /// <summary>Jobs holding it, each with the end of its hold.</summary>
    [Id(2)] public Dictionary<Guid, DateTimeOffset> Holds { get; set; } = [];

    /// <summary>Highest chunk index written so far plus one (chunks beyond the content are cleared with it).</summary>
    [Id(3)] public int ChunksWritten { get; set; }
}

/// <summary>One stored chunk of an artifact's content.</summary>
[GenerateSerializer, Alias("poolai.ArtifactChunk")]
public sealed class ArtifactChunk
{
    /// <summary>The bytes.</summary>
    [Id(0)] public byte[] Data { get; set; } = [];
}

/// <summary>
/// One artifact on a coordinator (see <see cref="IArtifactGrain"/>): chunks are records of the pool's grain storage
/// beside the artifact's own state, so they live wherever the pool keeps its state (SQLite, PostgreSQL, memory) and
/// a large artifact is never one huge row.
/// </summary>
[CoordinatorFilter]
public sealed class ArtifactGrain(
    [PersistentState("artifact", PoolKeys.Storage)] IPersistentState<ArtifactState> state,
    IServiceProvider services,
    TimeProvider time) : Grain, IArtifactGrain
{
    /// <summary>The state name of chunk records without the index: <c>artifact-chunk-0</c>, …</summary>
    public const string ChunkPrefix = "artifact-chunk";

    private readonly SerializedWrites<ArtifactState> _writes = new(state);
    private readonly Dictionary<int, GrainState<ArtifactChunk>> _chunks = [];
    private IGrainStorage Storage => services.GetRequiredKeyedService<IGrainStorage>(PoolKeys.Storage);

    private string Id => this.GetPrimaryKeyString();

    private ArtifactState A => state.State;

    /// <inheritdoc />
    public Task<ArtifactRef?> GetAsync() => Task.FromResult(A.Artifact);

    /// <inheritdoc />
    public async Task WriteChunkAsync(int index, byte[] data)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (A.Artifact is not null)
            return;
        if (index < 0 || index >= ArtifactTransfer.ChunkCount(ArtifactLimits.MaxSize))
            throw new ArgumentException($"index must be between 0 and {ArtifactTransfer.ChunkCount(ArtifactLimits.MaxSize) - 1}; was {index}", nameof(index));
        if (data.Length > ArtifactLimits.ChunkSize || (data.Length == 0 && index > 0))
            throw new ArgumentException($"data must hold 1 to {ArtifactLimits.ChunkSize} bytes (only chunk 0 of an empty artifact is empty); had {data.Length}", nameof(data));
        if (index >= A.ChunksWritten)
        {
            // Recorded first, so a crash after the chunk is written still knows to clear it; an upload never completed
            // is swept like an unclaimed artifact.
            var first = A.ChunksWritten == 0;
            A.ChunksWritten = index + 1;
            if (first)
                A.StoredAt = time.GetUtcNow();
            await _writes.WriteAsync();
            if (first)
                await GrainFactory.GetGrain<IArtifactIndexGrain>(IArtifactIndexGrain.Key).RecordAsync(new ArtifactRef(Id, 0, "application/octet-stream", "incomplete upload"), RetainUntil());
        }

        var chunk = _chunks.TryGetValue(index, out var known) ? known : await LoadAsync(index);
        chunk.State = new ArtifactChunk { Data = data };
        try
        {
            await Storage.WriteStateAsync(ChunkName(index), this.GetGrainId(), chunk);
        }
        finally
        {
            chunk.State = new ArtifactChunk(); // the record keeps its ETag; the bytes need not stay in memory
        }
    }

    /// <inheritdoc />
    public async Task<ArtifactRef> CompleteAsync(ArtifactRef artifact)
    {
        ArgumentNullException.ThrowIfNull(artifact);
        if (A.Artifact is { } stored)
            return stored;
        if (artifact.Id != Id)
            throw new ArgumentException($"id must be this artifact's key {Id}; was '{artifact.Id}'", nameof(artifact));
        if (artifact.Size is < 0 or > ArtifactLimits.MaxSize)
            throw new ArgumentException($"size must be between 0 and {ArtifactLimits.MaxSize} bytes; was {artifact.Size}", nameof(artifact));
        ArtifactTransfer.CheckName(artifact.Name);
        ArtifactTransfer.CheckMediaType(artifact.MediaType);
        var count = ArtifactTransfer.ChunkCount(artifact.Size);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        long size = 0;
        for (var index = 0; index < count; index++)
        {
            var chunk = await LoadAsync(index);
            var data = chunk.State?.Data ?? [];
            chunk.State = new ArtifactChunk();
            if (index < count - 1 && data.Length != ArtifactLimits.ChunkSize)
                return await DiscardAsync(artifact, $"chunk {index} holds {data.Length} bytes, not {ArtifactLimits.ChunkSize}");
            hash.AppendData(data);
            size += data.Length;
        }

        var id = Convert.ToHexStringLower(hash.GetHashAndReset());
        if (size != artifact.Size || id != Id)
            return await DiscardAsync(artifact, $"the chunks hold {size} bytes with SHA-256 {id}");
        A.Artifact = artifact;
        A.StoredAt = time.GetUtcNow();
        await _writes.WriteAsync();
        await GrainFactory.GetGrain<IArtifactIndexGrain>(IArtifactIndexGrain.Key).RecordAsync(artifact, RetainUntil());
        return artifact;
    }

    /// <inheritdoc />
    public async Task<byte[]> ReadChunkAsync(int index)
    {
        if (A.Artifact is not { } artifact)
            throw new KeyNotFoundException($"no artifact {Id} is stored (never stored, or deleted after its retention)");
        if (index < 0 || index >= ArtifactTransfer.ChunkCount(artifact.Size))
            throw new ArgumentOutOfRangeException(nameof(index), index, $"artifact {Id} has {ArtifactTransfer.ChunkCount(artifact.Size)} chunks");
        var chunk = new GrainState<ArtifactChunk>(new ArtifactChunk());
        await Storage.ReadStateAsync(ChunkName(index), this.GetGrainId(), chunk);
        return chunk.State?.Data ?? [];
    }

    /// <inheritdoc />
    public async Task<bool> HoldAsync(Guid jobId, DateTimeOffset until)
    {
        if (A.Artifact is not { } artifact)
            return false;
        var before = RetainUntil();
        A.Holds[jobId] = until;
        await _writes.WriteAsync();
        if (RetainUntil() != before)
            await GrainFactory.GetGrain<IArtifactIndexGrain>(IArtifactIndexGrain.Key).RecordAsync(artifact, RetainUntil());
        return true;
    }

    /// <inheritdoc />
    public async Task<DateTimeOffset?> SweepAsync()
    {
        if (A.Artifact is null && A.ChunksWritten == 0)
            return null;
        var now = time.GetUtcNow();
        if (now < RetainUntil())
        {
            // Holds that ended before the latest one do not change when it may go: forget them.
            foreach (var ended in A.Holds.Where(h => h.Value <= now).Select(h => h.Key).ToList())
                A.Holds.Remove(ended);
            await _writes.WriteAsync();
            return RetainUntil();
        }

        await ClearChunksAsync();
        await state.ClearStateAsync();
        state.State = new ArtifactState(); // not every provider resets it
        return null;
    }

    /// <inheritdoc />
    public Task<ArtifactInfo?> DescribeAsync() => Task.FromResult(A.Artifact is { } artifact
        ? new ArtifactInfo(artifact, A.StoredAt, new Dictionary<Guid, DateTimeOffset>(A.Holds), RetainUntil())
        : null);

    /// <summary>When the artifact may be deleted: the end of its latest hold, or, while no job holds it, the unclaimed retention after it was stored.</summary>
    private DateTimeOffset RetainUntil() => A.Holds.Count > 0 ? A.Holds.Values.Max() : A.StoredAt + ArtifactLimits.UnclaimedRetention;

    private async Task<ArtifactRef> DiscardAsync(ArtifactRef artifact, string found)
    {
        await ClearChunksAsync();
        A.ChunksWritten = 0;
        await _writes.WriteAsync();
        throw new ArgumentException($"the content does not match artifact {artifact.Id} of {artifact.Size} bytes: {found}; it was discarded, upload it again", nameof(artifact));
    }

    /// <summary>Reads chunk <paramref name="index"/>'s record into the one kept for it (so its ETag is known for the next write or clear).</summary>
    private async Task<GrainState<ArtifactChunk>> LoadAsync(int index)
    {
        if (!_chunks.TryGetValue(index, out var chunk))
            _chunks[index] = chunk = new GrainState<ArtifactChunk>(new ArtifactChunk());
        await Storage.ReadStateAsync(ChunkName(index), this.GetGrainId(), chunk);
        return chunk;
    }

    private async Task ClearChunksAsync()
    {
        for (var index = 0; index < A.ChunksWritten; index++)
        {
            var chunk = _chunks.TryGetValue(index, out var known) ? known : await LoadAsync(index);
            chunk.State = new ArtifactChunk();
            await Storage.ClearStateAsync(ChunkName(index), this.GetGrainId(), chunk);
        }

        _chunks.Clear();
    }

    private static string ChunkName(int index) => $"{ChunkPrefix}-{index}";
}
