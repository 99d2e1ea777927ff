using System.Security.Cryptography;
using PoolAI.Jobs;
using PoolAI.Volumes;

namespace PoolAI.Artifacts;

/// <summary>
/// An artifact's content on its way into its volume file, held by the artifact grain while the upload runs: chunks are
/// appended in order to one volume write (shards go to the stores as stripes fill) and hashed as they come. Nothing is
/// visible until <see cref="CommitAsync"/> has checked the size and SHA-256 and the volume has committed the file;
/// disposing it before then abandons the write, and the volume deletes its shards.
/// </summary>
/// <param name="volume">The volume written to.</param>
/// <param name="write">The open write of <c>artifacts/&lt;id&gt;</c>.</param>
public sealed class ArtifactVolumeUpload(string volume, VolumeWriteStream write) : IAsyncDisposable
{
    private readonly IncrementalHash _sha256 = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private bool _done;

    /// <summary>The volume written to.</summary>
    public string Volume => volume;

    /// <summary>The index of the chunk expected next (0-based).</summary>
    public int NextChunk { get; private set; }

    /// <summary>Bytes appended so far.</summary>
    public long Length { get; private set; }

    /// <summary>
    /// Appends chunk <paramref name="index"/>. A chunk already appended is skipped: a retried call, or another upload of
    /// the same content running alongside (whatever they sent, the hash is checked at the end).
    /// </summary>
    /// <param name="index">Chunk index, 0-based.</param>
    /// <param name="data">Its bytes (up to <see cref="ArtifactLimits.ChunkSize"/>).</param>
    /// <exception cref="ArgumentException">Field <c>index</c>: beyond the next chunk (chunks of content stored in a volume go in order).</exception>
    /// <exception cref="ObjectDisposedException">The upload was committed or abandoned.</exception>
    public async Task AppendAsync(int index, byte[] data)
    {
        ObjectDisposedException.ThrowIf(_done, this);
        if (index < NextChunk)
            return;
        if (index > NextChunk)
            throw new ArgumentException($"index must be {NextChunk}, the next chunk: content stored in volume '{volume}' is written in order; was {index}", nameof(index));
        await write.WriteAsync(data);
        _sha256.AppendData(data);
        NextChunk++;
        Length += data.Length;
    }

    /// <summary>
    /// Commits the file when the chunks appended hold exactly <paramref name="artifact"/>'s size and SHA-256 (its id),
    /// and the volume committed it with that SHA-256. Returns null then; otherwise what the content held (the write is
    /// abandoned, or a committed file is left for the caller to delete).
    /// </summary>
    /// <exception cref="JobValidationException">The volume refused the commit (its quota; the write expired).</exception>
    public async Task<string?> CommitAsync(ArtifactRef artifact)
    {
        ObjectDisposedException.ThrowIf(_done, this);
        var sha256 = Convert.ToHexStringLower(_sha256.GetHashAndReset());
        if (Length != artifact.Size || sha256 != artifact.Id)
        {
            await DisposeAsync();
            return $"the chunks hold {Length} bytes with SHA-256 {sha256}";
        }

        _done = true;
        var file = await write.CompleteAsync();
        return file.Length == artifact.Size && file.Sha256 == artifact.Id
            ? null
            : $"volume '{volume}' committed {file.Length} bytes with SHA-256 {file.Sha256}";
    }

    /// <summary>Abandons the write unless it was committed.</summary>
    public async ValueTask DisposeAsync()
    {
        _done = true;
        await write.DisposeAsync();
        _sha256.Dispose();
    }
}
