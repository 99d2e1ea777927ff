using PoolAI.Jobs;

namespace PoolAI.Volumes;

/// <summary>
/// Reads and writes volumes from a trusted cluster client (the SDK, the gateway) or a grain: metadata from the volume
/// grain, bytes straight between this process and the stores.
/// </summary>
/// <param name="grains">The cluster.</param>
public sealed class VolumeClient(IGrainFactory grains)
{
    /// <summary>Stripes encoded and stored at once per write (each holds K × shard bytes in memory).</summary>
    public int StripesInFlight { get; init; } = 4;

    /// <summary>Stripes read ahead per read.</summary>
    public int ReadAhead { get; init; } = 4;

    /// <summary>The volume grain of <paramref name="volume"/>.</summary>
    /// <exception cref="JobValidationException">Field <c>volume</c>: not a volume name.</exception>
    public IVolumeGrain Volume(string volume) => grains.GetGrain<IVolumeGrain>(VolumeNames.CheckName(volume));

    /// <summary>Creates a volume.</summary>
    public Task<VolumeView> CreateAsync(string volume, VolumeSpec spec) => Volume(volume).CreateAsync(spec);

    /// <summary>Every volume, with its settings and usage.</summary>
    public async Task<IReadOnlyList<VolumeView>> ListVolumesAsync()
    {
        var names = await grains.GetGrain<IVolumeRegistryGrain>(IVolumeRegistryGrain.Default).ListAsync();
        return await Task.WhenAll(names.Select(n => grains.GetGrain<IVolumeGrain>(n).DescribeAsync()));
    }

    /// <summary>Opens <paramref name="path"/> for writing; call <see cref="VolumeWriteStream.CompleteAsync"/> to make it visible.</summary>
    /// <param name="volume">Volume name.</param>
    /// <param name="path">File path in the volume.</param>
    /// <param name="expectedBytes">Size when known (checked against the quota at once), else −1.</param>
    /// <param name="progress">Receives the file bytes of each stripe stored.</param>
    public async Task<VolumeWriteStream> OpenWriteAsync(string volume, string path, long expectedBytes = -1, IProgress<long>? progress = null)
    {
        var grain = Volume(volume);
        var grant = await grain.BeginWriteAsync(path, expectedBytes);
        return new VolumeWriteStream(grains, grain, volume, grant, commit => grain.CommitWriteAsync(grant.Write, commit), StripesInFlight, progress);
    }

    /// <summary>Opens a write of part <paramref name="part"/> of multipart upload <paramref name="upload"/>; completing it stages the part.</summary>
    public async Task<VolumeWriteStream> OpenPartWriteAsync(string volume, Guid upload, string path, int part, IProgress<long>? progress = null)
    {
        var grain = Volume(volume);
        var grant = await grain.BeginWriteAsync(path, -1);
        return new VolumeWriteStream(grains, grain, volume, grant, async commit =>
        {
            await grain.StagePartAsync(upload, part, grant.Write, commit);
            return new VolumeFile(grant.Path, commit.Length, Convert.ToHexStringLower(commit.Sha256), commit.ETag, DateTimeOffset.UtcNow);
        }, StripesInFlight, progress);
    }

    /// <summary>Writes <paramref name="content"/> to <paramref name="path"/> and commits it.</summary>
    public async Task<VolumeFile> WriteAsync(string volume, string path, Stream content, IProgress<long>? progress = null, CancellationToken cancellationToken = default)
    {
        await using var write = await OpenWriteAsync(volume, path, content.CanSeek ? content.Length - content.Position : -1, progress);
        await content.CopyToAsync(write, 1 << 20, cancellationToken);
        return await write.CompleteAsync(cancellationToken);
    }

    /// <summary>Opens bytes [<paramref name="offset"/>, <paramref name="offset"/> + <paramref name="length"/>) of <paramref name="path"/> (to the end when <paramref name="length"/> is −1 or runs past it).</summary>
    /// <exception cref="VolumeNotFoundException">No such volume or file.</exception>
    /// <exception cref="JobValidationException">Field <c>offset</c> or <c>length</c>: negative, or the offset past the end.</exception>
    public async Task<VolumeReadStream> OpenReadAsync(string volume, string path, long offset = 0, long length = -1)
    {
        if (length < -1)
            throw new JobValidationException("length", $"must be ≥ 0, or −1 for the rest (got {length})");
        var grain = Volume(volume);
        return await OpenReadAsync(grain, volume, await grain.OpenFileAsync(path), offset, length);
    }

    /// <summary>Pins the current version of <paramref name="path"/>: reads through the handle see that version even if a newer one is written meanwhile (until its shards are collected).</summary>
    /// <exception cref="VolumeNotFoundException">No such volume or file.</exception>
    public async Task<VolumeFileHandle> OpenAsync(string volume, string path)
    {
        var grain = Volume(volume);
        var file = await grain.OpenFileAsync(path);
        return new VolumeFileHandle(this, grain, volume, file);
    }

    /// <summary>A read of a pinned version (see <see cref="OpenAsync"/>).</summary>
    internal async Task<VolumeReadStream> OpenReadAsync(IVolumeGrain grain, string volume, FileLayout file, long offset, long length)
    {
        if (offset < 0 || offset > file.File.Length)
            throw new JobValidationException("offset", $"must be 0 to {file.File.Length} (got {offset})");
        var count = length < 0 ? file.File.Length - offset : Math.Min(length, file.File.Length - offset);
        var stores = await grains.GetGrain<IStoreDirectoryGrain>(IStoreDirectoryGrain.Default).GetStoresAsync();
        var dead = stores.Where(s => !s.Alive).Select(s => s.StoreId).ToHashSet(StringComparer.Ordinal);
        return new VolumeReadStream(grains, grain, volume, file, offset, count, store => !dead.Contains(store), ReadAhead);
    }

    /// <summary>Copies <paramref name="path"/> into <paramref name="destination"/>; returns the file.</summary>
    public async Task<VolumeFile> ReadAsync(string volume, string path, Stream destination, CancellationToken cancellationToken = default)
    {
        await using var read = await OpenReadAsync(volume, path);
        await read.CopyToAsync(destination, 1 << 20, cancellationToken);
        return read.File;
    }
}
