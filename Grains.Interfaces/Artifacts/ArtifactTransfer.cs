using System.Security.Cryptography;
using PoolAI.Jobs;

namespace PoolAI.Artifacts;

/// <summary>
/// Moves artifact content to and from the pool's artifact store (<see cref="IArtifactGrain"/>) in chunks of
/// <see cref="ArtifactLimits.ChunkSize"/>, never holding a whole large file in memory: the SDK, the gateway and the
/// executors all use it.
/// </summary>
public static class ArtifactTransfer
{
    /// <summary>
    /// Stores <paramref name="content"/> (read to its end) and returns its reference. The content is hashed first (a
    /// stream that cannot seek is copied to a temporary file for that), then uploaded unless the store already holds the
    /// same bytes. Until a job holds it, the store keeps it for <see cref="ArtifactLimits.UnclaimedRetention"/>.
    /// </summary>
    /// <param name="grains">Where the store's grains are.</param>
    /// <param name="content">The bytes; at most <see cref="ArtifactLimits.MaxSize"/>.</param>
    /// <param name="mediaType">IANA media type, e.g. <c>image/png</c>.</param>
    /// <param name="name">File name for people: no folders, at most <see cref="ArtifactLimits.MaxNameLength"/> characters.</param>
    /// <param name="cancellationToken">Stops the upload.</param>
    /// <exception cref="ArgumentException">A name or media type breaks its rule, or the content is too large.</exception>
    public static async Task<ArtifactRef> UploadAsync(IGrainFactory grains, Stream content, string mediaType, string name, CancellationToken cancellationToken = default)
    {
        CheckName(name);
        CheckMediaType(mediaType);
        Stream source = content;
        string? temporary = null;
        try
        {
            if (!content.CanSeek)
            {
                temporary = Path.GetTempFileName();
                source = new FileStream(temporary, FileMode.Create, FileAccess.ReadWrite, FileShare.None, 1 << 16, FileOptions.DeleteOnClose | FileOptions.Asynchronous);
                await content.CopyToAsync(source, cancellationToken);
                source.Position = 0;
            }

            var start = source.Position;
            var size = source.Length - start;
            if (size > ArtifactLimits.MaxSize)
                throw new ArgumentException($"content must be at most {ArtifactLimits.MaxSize} bytes; was {size}", nameof(content));
            var id = Convert.ToHexStringLower(await SHA256.HashDataAsync(source, cancellationToken));
            var artifact = new ArtifactRef(id, size, mediaType, name);
            var grain = grains.GetGrain<IArtifactGrain>(id);
            if (await grain.GetAsync() is { } stored)
                return stored with { MediaType = mediaType, Name = name };
            source.Position = start;
            var buffer = new byte[ArtifactLimits.ChunkSize];
            for (var index = 0; ; index++)
            {
                var read = await source.ReadAtLeastAsync(buffer, buffer.Length, throwOnEndOfStream: false, cancellationToken);
                if (read == 0 && index > 0)
                    break;
                await grain.WriteChunkAsync(index, buffer.AsSpan(0, read).ToArray());
                if (read < buffer.Length)
                    break;
            }

            return await grain.CompleteAsync(artifact);
        }
        finally
        {
            if (temporary is not null)
                await source.DisposeAsync();
        }
    }

    /// <summary>Stores <paramref name="content"/>; see <see cref="UploadAsync(IGrainFactory, Stream, string, string, CancellationToken)"/>.</summary>
    public static async Task<ArtifactRef> UploadAsync(IGrainFactory grains, ReadOnlyMemory<byte> content, string mediaType, string name, CancellationToken cancellationToken = default)
    {
        await using var stream = new MemoryStream(content.ToArray(), writable: false);
        return await UploadAsync(grains, stream, mediaType, name, cancellationToken);
    }

    /// <summary>Writes the content of <paramref name="artifact"/> to <paramref name="destination"/>, chunk by chunk.</summary>
    /// <exception cref="KeyNotFoundException">The store does not hold it (never stored, or deleted after its retention).</exception>
    public static async Task CopyToAsync(IGrainFactory grains, ArtifactRef artifact, Stream destination, CancellationToken cancellationToken = default)
    {
        var grain = grains.GetGrain<IArtifactGrain>(artifact.Id);
        var chunks = ChunkCount(artifact.Size);
        for (var index = 0; index < chunks; index++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var chunk = await grain.ReadChunkAsync(index);
            await destination.WriteAsync(chunk, cancellationToken);
        }
    }

    /// <summary>The whole content of a small artifact.</summary>
    /// <exception cref="KeyNotFoundException">The store does not hold it.</exception>
    /// <exception cref="InvalidOperationException">It is larger than 256 MiB: stream it with <see cref="CopyToAsync"/>.</exception>
    public static async Task<byte[]> ReadAllAsync(IGrainFactory grains, ArtifactRef artifact, CancellationToken cancellationToken = default)
    {
        if (artifact.Size > 256L << 20)
            throw new InvalidOperationException($"artifact {artifact.Id} has {artifact.Size} bytes; stream it with CopyToAsync");
        using var memory = new MemoryStream((int)artifact.Size);
        await CopyToAsync(grains, artifact, memory, cancellationToken);
        return memory.ToArray();
    }

    /// <summary>Chunks of content of <paramref name="size"/> bytes (an empty artifact has one empty chunk).</summary>
    public static int ChunkCount(long size) => size == 0 ? 1 : (int)((size + ArtifactLimits.ChunkSize - 1) / ArtifactLimits.ChunkSize);

    /// <summary>Checks an artifact name: 1–255 characters, no folder separators, no control characters, not <c>.</c> or <c>..</c>.</summary>
    /// <exception cref="ArgumentException">The rule broken.</exception>
    public static void CheckName(string name)
    {
        if (string.IsNullOrWhiteSpace(name) || name.Length > ArtifactLimits.MaxNameLength || name is "." or ".."
            || name.Any(c => c is '/' or '\\' || char.IsControl(c)))
            throw new ArgumentException($"name must be a file name of 1 to {ArtifactLimits.MaxNameLength} characters without folders or control characters; was '{name}'", nameof(name));
    }

    /// <summary>Checks a media type: <c>type/subtype</c>, at most 127 characters.</summary>
    /// <exception cref="ArgumentException">The rule broken.</exception>
    public static void CheckMediaType(string mediaType)
    {
        if (string.IsNullOrEmpty(mediaType) || mediaType.Length > 127 || mediaType.Count(c => c == '/') != 1
            || mediaType.StartsWith('/') || mediaType.EndsWith('/') || mediaType.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)))
            throw new ArgumentException($"media_type must be type/subtype (e.g. application/json); was '{mediaType}'", nameof(mediaType));
    }
}
