namespace PoolAI.Volumes;

/// <summary>A volume's persisted metadata (state name <c>volume</c>).</summary>
[GenerateSerializer, Alias("poolai.VolumeState")]
public sealed class VolumeState
{
    /// <summary>Set once the volume is created.</summary>
    [Id(0)] public VolumeView? Volume { get; set; }

    /// <summary>The volume's AES-256 data key, wrapped with the pool's volume master key (<see cref="VolumeKeyring"/>).</summary>
    [Id(1)] public byte[] WrappedKey { get; set; } = [];

    /// <summary>Current files by path.</summary>
    [Id(2)] public Dictionary<string, FileState> Files { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Writes granted and not yet committed or aborted: their shards are deleted when they expire.</summary>
    [Id(3)] public Dictionary<Guid, PendingWrite> Pending { get; set; } = [];

    /// <summary>Multipart uploads in progress.</summary>
    [Id(4)] public Dictionary<Guid, UploadState> Uploads { get; set; } = [];

    /// <summary>Writes whose shards are no longer referenced (replaced, deleted, aborted), with the stores that may hold them, until deleted.</summary>
    [Id(5)] public Dictionary<Guid, List<string>> Garbage { get; set; } = [];
}

/// <summary>A current file.</summary>
[GenerateSerializer, Alias("poolai.VolumeFileState")]
public sealed class FileState
{
    /// <summary>What listings show.</summary>
    [Id(0)] public required VolumeFile File { get; set; }

    /// <summary>Its bytes, extent by extent.</summary>
    [Id(1)] public List<FileExtent> Extents { get; set; } = [];
}

/// <summary>A granted write.</summary>
/// <param name="Path">The file it writes.</param>
/// <param name="Started">When granted.</param>
/// <param name="Upload">The multipart upload it is a part of, if any.</param>
/// <param name="Stores">The stores it was granted, which may hold its shards (null for writes granted before this was recorded: any store may).</param>
[GenerateSerializer, Immutable, Alias("poolai.PendingWrite")]
public sealed record PendingWrite([property: Id(0)] string Path, [property: Id(1)] DateTimeOffset Started, [property: Id(2)] Guid? Upload, [property: Id(3)] IReadOnlyList<string>? Stores = null);

/// <summary>A multipart upload.</summary>
[GenerateSerializer, Alias("poolai.VolumeUploadState")]
public sealed class UploadState
{
    /// <summary>The file it will become.</summary>
    [Id(0)] public required string Path { get; set; }

    /// <summary>When it began.</summary>
    [Id(1)] public DateTimeOffset Created { get; set; }

    /// <summary>Staged parts by number.</summary>
    [Id(2)] public Dictionary<int, FileExtentPart> Parts { get; set; } = [];
}

/// <summary>A staged part of an upload.</summary>
/// <param name="Extent">Its bytes.</param>
/// <param name="Sha256">Its SHA-256 (32 bytes).</param>
/// <param name="ETag">Its ETag (quoted MD5 hex).</param>
[GenerateSerializer, Immutable, Alias("poolai.FileExtentPart")]
public sealed record FileExtentPart([property: Id(0)] FileExtent Extent, [property: Id(1)] byte[] Sha256, [property: Id(2)] string ETag);
