using System.Security.Cryptography;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Storage;
using PoolAI.Jobs;
using PoolAI.Placement;
using PoolAI.Storage;

namespace PoolAI.Artifacts;

/// <summary>
/// One artifact on a coordinator (see <see cref="IArtifactGrain"/>). Its content goes where it is decided when an
/// upload begins at chunk 0: into file <c>artifacts/&lt;id&gt;</c> of the artifact volume while volumes are usable
/// (<see cref="ArtifactVolume"/>; the chunks stream into one volume write, in order), else into chunk records of the
/// pool's grain storage beside the artifact's own state, so they live wherever the pool keeps its state (SQLite,
/// PostgreSQL, memory) and a large artifact is never one huge row. <see cref="ArtifactState.Volume"/> records which,
/// and reads serve the same chunks from either.
/// </summary>
[CoordinatorFilter]
public sealed class ArtifactGrain(
    [PersistentState("artifact", PoolKeys.Storage)] IPersistentState<ArtifactState> state,
    ArtifactVolume volumes,
    IServiceProvider services,
    TimeProvider time) : Grain, IArtifactGrain
{
    /// <summary>The state name of chunk records without the index: <c>artifact-chunk-0</c>, …</summary>
    public const string ChunkPrefix = "artifact-chunk";

    private readonly SerializedWrites<ArtifactState> _writes = new(state);
    private readonly Dictionary<int, GrainState<ArtifactChunk>> _chunks = [];
    private ArtifactVolumeUpload? _upload;
    private ArtifactVolumeReader? _reader;
    private IGrainStorage Storage => services.GetRequiredKeyedService<IGrainStorage>(PoolKeys.Storage);

    private string Id => this.GetPrimaryKeyString();

    private ArtifactState A => state.State;

    /// <inheritdoc />
    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        await DropUploadAsync();
        await DropReaderAsync();
    }

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
        if (A.ChunksWritten == 0 || (A.Volume is not null && _upload is null && index == 0))
            await BeginAsync(index);
        if (A.Volume is not null)
        {
            if (_upload is null)
                throw new ArgumentException($"index must be 0: the upload of artifact {Id} into volume '{A.Volume}' was interrupted (its coordinator restarted), so it starts again from chunk 0; was {index}", nameof(index));
            await _upload.AppendAsync(index, data);
            return;
        }

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
        if (A.Volume is not null)
            await CommitVolumeAsync(artifact);
        else
            await CheckChunksAsync(artifact);
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
        if (A.Volume is { } volume)
        {
            _reader ??= new ArtifactVolumeReader(volumes, volume, Id, time);
            return await _reader.ReadChunkAsync(index, artifact.Size);
        }

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

        await ClearContentAsync();
        await DropReaderAsync();
        await state.ClearStateAsync();
        state.State = new ArtifactState(); // not every provider resets it
        return null;
    }

    /// <inheritdoc />
    public Task<ArtifactInfo?> DescribeAsync() => Task.FromResult(A.Artifact is { } artifact
        ? new ArtifactInfo(artifact, A.StoredAt, new Dictionary<Guid, DateTimeOffset>(A.Holds), RetainUntil(), A.Volume)
        : null);

    /// <summary>When the artifact may be deleted: the end of its latest hold, or, while no job holds it, the unclaimed retention after it was stored.</summary>
    private DateTimeOffset RetainUntil() => A.Holds.Count > 0 ? A.Holds.Values.Max() : A.StoredAt + ArtifactLimits.UnclaimedRetention;

    /// <summary>
    /// An upload begins (its first chunk, or chunk 0 again after an interrupted volume upload): its content goes to the
    /// artifact volume when it starts at chunk 0 and volumes are usable now, else to chunk records.
    /// </summary>
    private async Task BeginAsync(int index)
    {
        await DropUploadAsync();
        var write = index == 0 ? await volumes.TryOpenWriteAsync(Id) : null;
        _upload = write is null ? null : new ArtifactVolumeUpload(volumes.Name, write);
        A.Volume = _upload?.Volume;
        if (_upload is null)
        {
            A.ChunksWritten = 0; // chunk records from here: the chunk path records the upload
            return;
        }

        // Recorded, so that an upload never completed is swept like an unclaimed artifact (the volume deletes the
        // shards of a write never committed by itself).
        A.ChunksWritten = 1;
        A.StoredAt = time.GetUtcNow();
        await _writes.WriteAsync();
        await GrainFactory.GetGrain<IArtifactIndexGrain>(IArtifactIndexGrain.Key).RecordAsync(new ArtifactRef(Id, 0, "application/octet-stream", "incomplete upload"), RetainUntil());
    }

    /// <summary>Commits the volume file when the chunks streamed into it are <paramref name="artifact"/>'s content.</summary>
    /// <exception cref="ArgumentException">They are not (or the upload was interrupted): discarded.</exception>
    private async Task CommitVolumeAsync(ArtifactRef artifact)
    {
        if (_upload is not { } upload)
            throw await DiscardAsync(artifact, $"its upload into volume '{A.Volume}' was interrupted (its coordinator restarted)");
        _upload = null;
        string? found;
        try
        {
            found = await upload.CommitAsync(artifact);
        }
        finally
        {
            await upload.DisposeAsync();
        }

        if (found is not null)
            throw await DiscardAsync(artifact, found);
    }

    /// <summary>Checks that the chunk records hold <paramref name="artifact"/>'s content.</summary>
    /// <exception cref="ArgumentException">They do not: discarded.</exception>
    private async Task CheckChunksAsync(ArtifactRef artifact)
    {
        var count = ArtifactTransfer.ChunkCount(artifact.Size);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        long size = 0;
        for (var index = 0; index < count; index++)
        {
            var chunk = await LoadAsync(index);
            var data = chunk.State?.Data ?? [];
            chunk.State = new ArtifactChunk();
            if (index < count - 1 && data.Length != ArtifactLimits.ChunkSize)
                throw await DiscardAsync(artifact, $"chunk {index} holds {data.Length} bytes, not {ArtifactLimits.ChunkSize}");
            hash.AppendData(data);
            size += data.Length;
        }

        var id = Convert.ToHexStringLower(hash.GetHashAndReset());
        if (size != artifact.Size || id != Id)
            throw await DiscardAsync(artifact, $"the chunks hold {size} bytes with SHA-256 {id}");
    }

    /// <summary>Deletes what an upload wrote that does not match <paramref name="artifact"/>; returns the error to throw.</summary>
    private async Task<ArgumentException> DiscardAsync(ArtifactRef artifact, string found)
    {
        await ClearContentAsync();
        A.ChunksWritten = 0;
        A.Volume = null;
        await _writes.WriteAsync();
        return new ArgumentException($"the content does not match artifact {artifact.Id} of {artifact.Size} bytes: {found}; it was discarded, upload it again", nameof(artifact));
    }

    /// <summary>Deletes the content, wherever it is: the volume file (and an upload into it still open), or the chunk records.</summary>
    private async Task ClearContentAsync()
    {
        if (A.Volume is { } volume)
        {
            await DropUploadAsync();
            await volumes.DeleteAsync(volume, Id);
        }
        else
        {
            await ClearChunksAsync();
        }
    }

    private async Task DropUploadAsync()
    {
        if (_upload is { } upload)
        {
            _upload = null;
            await upload.DisposeAsync();
        }
    }

    private async Task DropReaderAsync()
    {
        if (_reader is { } reader)
        {
            _reader = null;
            await reader.DisposeAsync();
        }
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
