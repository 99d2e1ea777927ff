using PoolAI.Volumes;

namespace PoolAI.Artifacts;

/// <summary>
/// Serves chunks of an artifact whose content is a volume file, in the chunking of chunk records
/// (<see cref="ArtifactLimits.ChunkSize"/> bytes each, the last shorter), so readers cannot tell where the content is.
/// The file's version is pinned for <see cref="HandleLifetime"/> (not looked up per chunk), and chunks read in order
/// continue one read stream, which reads the next stripe ahead. A read that fails is tried once more on a fresh pin
/// (shards moved by a rebuild since it was taken).
/// </summary>
/// <param name="volumes">The artifact volume access.</param>
/// <param name="volume">The volume holding the file.</param>
/// <param name="artifactId">The artifact (its file is <c>artifacts/&lt;id&gt;</c>).</param>
/// <param name="time">The clock for <see cref="HandleLifetime"/>.</param>
public sealed class ArtifactVolumeReader(ArtifactVolume volumes, string volume, string artifactId, TimeProvider time) : IAsyncDisposable
{
    /// <summary>How long a pinned version is used for new reads before it is looked up again.</summary>
    public static readonly TimeSpan HandleLifetime = TimeSpan.FromMinutes(1);

    private VolumeFileHandle? _handle;
    private DateTimeOffset _pinnedAt;
    private VolumeReadStream? _stream;
    private long _position;

    /// <summary>Chunk <paramref name="index"/> of content of <paramref name="size"/> bytes.</summary>
    /// <param name="index">Chunk index, 0-based; the caller has checked it is below <see cref="ArtifactTransfer.ChunkCount"/>.</param>
    /// <param name="size">The artifact's size, bytes.</param>
    /// <exception cref="KeyNotFoundException">The file is missing from the volume (or the volume is gone).</exception>
    /// <exception cref="IOException">A stripe has fewer good shards than it needs, on a fresh pin too.</exception>
    public async Task<byte[]> ReadChunkAsync(int index, long size)
    {
        var offset = (long)index * ArtifactLimits.ChunkSize;
        var chunk = new byte[(int)Math.Min(ArtifactLimits.ChunkSize, size - offset)];
        try
        {
            try
            {
                await ReadAsync(offset, size, chunk);
            }
            catch (Exception e) when (e is not VolumeNotFoundException)
            {
                await ResetAsync(unpin: true);
                await ReadAsync(offset, size, chunk);
            }
        }
        catch (VolumeNotFoundException e)
        {
            await ResetAsync(unpin: true);
            throw new KeyNotFoundException($"artifact {artifactId}: its content is missing from volume '{volume}' ({e.Message})", e);
        }

        return chunk;
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync() => new(ResetAsync(unpin: true));

    private async Task ReadAsync(long offset, long size, byte[] chunk)
    {
        if (_stream is null || _position != offset)
        {
            await ResetAsync(unpin: _handle is null || time.GetUtcNow() - _pinnedAt >= HandleLifetime);
            if (_handle is null)
            {
                _handle = await volumes.OpenAsync(volume, artifactId);
                _pinnedAt = time.GetUtcNow();
            }

            _stream = await _handle.OpenReadAsync(offset, size - offset);
            _position = offset;
        }

        await _stream.ReadExactlyAsync(chunk);
        _position += chunk.Length;
        if (_position >= size)
            await ResetAsync(unpin: false);
    }

    private async Task ResetAsync(bool unpin)
    {
        if (_stream is not null)
        {
            var stream = _stream;
            _stream = null;
            await stream.DisposeAsync();
        }

        if (unpin)
            _handle = null;
    }
}
