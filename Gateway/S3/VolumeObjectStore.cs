using PoolAI.Jobs;
using PoolAI.Volumes;

namespace PoolAI.Gateway.S3;

/// <summary>The S3 API's objects kept in the pool's volumes: a bucket is a volume, a key a file path, bytes streamed through <see cref="VolumeClient"/>.</summary>
/// <param name="grains">The cluster.</param>
public sealed class VolumeObjectStore(IGrainFactory grains) : IS3ObjectStore
{
    private readonly VolumeClient _volumes = new(grains);

    /// <inheritdoc />
    public async Task<IReadOnlyList<S3Bucket>> ListBucketsAsync(CancellationToken ct) =>
        [.. (await _volumes.ListVolumesAsync()).Select(v => new S3Bucket(v.Name, v.CreatedAt))];

    /// <inheritdoc />
    public async Task<bool> BucketExistsAsync(string bucket, CancellationToken ct)
    {
        try
        {
            await _volumes.Volume(bucket).DescribeAsync();
            return true;
        }
        catch (VolumeNotFoundException)
        {
            return false;
        }
    }

    /// <inheritdoc />
    public async Task<VolumeFile> PutObjectAsync(string bucket, string key, Stream body, long contentLength, CancellationToken ct)
    {
        // Disposed without CompleteAsync when the body fails its signature or checksum: the write is abandoned.
        await using var write = await _volumes.OpenWriteAsync(bucket, key, contentLength);
        await body.CopyToAsync(write, 1 << 20, ct);
        return await write.CompleteAsync(ct);
    }

    /// <inheritdoc />
    public async Task<VolumeFile?> HeadObjectAsync(string bucket, string key, CancellationToken ct)
    {
        try
        {
            return (await _volumes.Volume(bucket).OpenFileAsync(key)).File;
        }
        catch (VolumeNotFoundException e) when (e.Path is not null)
        {
            return null;
        }
    }

    /// <inheritdoc />
    public async Task<IS3ObjectVersion> OpenAsync(string bucket, string key, CancellationToken ct) => new Version(await _volumes.OpenAsync(bucket, key));

    /// <inheritdoc />
    public Task<bool> DeleteObjectAsync(string bucket, string key, CancellationToken ct) => _volumes.Volume(bucket).DeleteFileAsync(key);

    /// <inheritdoc />
    public Task<VolumeListing> ListObjectsAsync(string bucket, ListRequest request, CancellationToken ct) => _volumes.Volume(bucket).ListAsync(request);

    /// <inheritdoc />
    public Task<Guid> CreateMultipartUploadAsync(string bucket, string key, CancellationToken ct) => _volumes.Volume(bucket).CreateUploadAsync(key);

    /// <inheritdoc />
    public async Task<string> UploadPartAsync(string bucket, string key, Guid upload, int partNumber, Stream body, long contentLength, CancellationToken ct)
    {
        if (partNumber is < 1 or > 10_000)
            throw new JobValidationException("partNumber", $"must be 1 to 10000 (got {partNumber})");
        await using var write = await _volumes.OpenPartWriteAsync(bucket, upload, key, partNumber);
        await body.CopyToAsync(write, 1 << 20, ct);
        return (await write.CompleteAsync(ct)).ETag;
    }

    /// <inheritdoc />
    public Task<VolumeFile> CompleteMultipartUploadAsync(string bucket, string key, Guid upload, IReadOnlyList<S3PartTag> parts, CancellationToken ct) =>
        _volumes.Volume(bucket).CompleteUploadAsync(upload, key, [.. parts.Select(p => p.PartNumber)], [.. parts.Select(p => p.ETag)]);

    /// <inheritdoc />
    public Task AbortMultipartUploadAsync(string bucket, string key, Guid upload, CancellationToken ct) => _volumes.Volume(bucket).AbortUploadAsync(upload, key);

    private sealed class Version(VolumeFileHandle handle) : IS3ObjectVersion
    {
        public VolumeFile File => handle.File;

        public async Task<Stream> ReadAsync(long offset, long length, CancellationToken cancellationToken) => await handle.OpenReadAsync(offset, length);
    }
}
