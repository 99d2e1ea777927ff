using System.Collections.Concurrent;
using System.Security.Cryptography;
using PoolAI.Gateway.S3;
using PoolAI.Jobs;
using PoolAI.Volumes;

namespace PoolAI.Tests.Gateway.S3;

/// <summary>
/// An <see cref="IS3ObjectStore"/> in memory, as the contract says a store behaves: a body is read to its end before
/// anything is stored (a read that throws stores nothing), ETags are MD5s (S3's multipart ETag for uploads), listings
/// roll keys up into common prefixes once.
/// </summary>
public sealed class InMemoryS3ObjectStore : IS3ObjectStore
{
    private readonly ConcurrentDictionary<string, Bucket> _buckets = new(StringComparer.Ordinal);

    /// <summary>Makes an empty bucket.</summary>
    public void CreateBucket(string name) => _buckets.TryAdd(name, new Bucket(DateTimeOffset.UtcNow));

    /// <summary>The keys of <paramref name="bucket"/>, in order.</summary>
    public IReadOnlyList<string> Keys(string bucket)
    {
        var b = Of(bucket);
        lock (b)
            return b.Objects.Keys.ToList();
    }

    /// <summary>Completed when a PutObject has read its first bytes (set by a test that watches streaming).</summary>
    public TaskCompletionSource? FirstBytesRead { get; set; }

    /// <summary>Uploads started and neither completed nor aborted, in all buckets.</summary>
    public int OpenUploads => _buckets.Values.Sum(b => b.Uploads.Count);

    public Task<IReadOnlyList<S3Bucket>> ListBucketsAsync(CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<S3Bucket>>(_buckets.Select(b => new S3Bucket(b.Key, b.Value.Created)).OrderBy(b => b.Name, StringComparer.Ordinal).ToList());

    public Task<bool> BucketExistsAsync(string bucket, CancellationToken cancellationToken) => Task.FromResult(_buckets.ContainsKey(bucket));

    public async Task<VolumeFile> PutObjectAsync(string bucket, string key, Stream body, long contentLength, CancellationToken cancellationToken)
    {
        var b = Of(bucket);
        var bytes = await ReadAllAsync(body, cancellationToken);
        var file = new VolumeFile(key, bytes.Length, Convert.ToHexStringLower(SHA256.HashData(bytes)), $"\"{Convert.ToHexStringLower(MD5.HashData(bytes))}\"", DateTimeOffset.UtcNow);
        lock (b)
            b.Objects[key] = (file, bytes);
        return file;
    }

    public Task<VolumeFile?> HeadObjectAsync(string bucket, string key, CancellationToken cancellationToken)
    {
        var b = Of(bucket);
        lock (b)
            return Task.FromResult(b.Objects.TryGetValue(key, out var stored) ? stored.File : null);
    }

    public Task<IS3ObjectVersion> OpenAsync(string bucket, string key, CancellationToken cancellationToken)
    {
        var b = Of(bucket);
        lock (b)
        {
            return b.Objects.TryGetValue(key, out var stored)
                ? Task.FromResult<IS3ObjectVersion>(new Version(stored.File, stored.Bytes))
                : throw new VolumeNotFoundException(bucket, key);
        }
    }

    public Task<bool> DeleteObjectAsync(string bucket, string key, CancellationToken cancellationToken)
    {
        var b = Of(bucket);
        lock (b)
            return Task.FromResult(b.Objects.Remove(key));
    }

    public Task<VolumeListing> ListObjectsAsync(string bucket, ListRequest request, CancellationToken cancellationToken)
    {
        var b = Of(bucket);
        List<VolumeFile> files;
        lock (b)
        {
            files = b.Objects.Values.Select(o => o.File)
                .Where(f => f.Path.StartsWith(request.Prefix, StringComparison.Ordinal) && (request.StartAfter is null || string.CompareOrdinal(f.Path, request.StartAfter) > 0))
                .ToList();
        }

        var page = new List<VolumeFile>();
        var prefixes = new List<string>();
        string? last = null;
        string? next = null;
        foreach (var file in files)
        {
            string? rolled = null;
            if (request.Delimiter is { Length: > 0 } delimiter && file.Path.IndexOf(delimiter, request.Prefix.Length, StringComparison.Ordinal) is var at and >= 0)
                rolled = file.Path[..(at + delimiter.Length)];
            if (rolled is not null && (rolled == request.StartAfter || rolled == prefixes.LastOrDefault()))
                continue;
            if (page.Count + prefixes.Count == request.Limit)
            {
                next = last;
                break;
            }

            if (rolled is not null)
                prefixes.Add(rolled);
            else
                page.Add(file);
            last = rolled ?? file.Path;
        }

        return Task.FromResult(new VolumeListing(page, prefixes, next));
    }

    public Task<Guid> CreateMultipartUploadAsync(string bucket, string key, CancellationToken cancellationToken)
    {
        var upload = Guid.NewGuid();
        Of(bucket).Uploads[upload] = new Upload(key);
        return Task.FromResult(upload);
    }

    public async Task<string> UploadPartAsync(string bucket, string key, Guid upload, int partNumber, Stream body, long contentLength, CancellationToken cancellationToken)
    {
        var u = UploadOf(bucket, key, upload);
        var bytes = await ReadAllAsync(body, cancellationToken);
        var etag = $"\"{Convert.ToHexStringLower(MD5.HashData(bytes))}\"";
        u.Parts[partNumber] = (etag, bytes);
        return etag;
    }

    public Task<VolumeFile> CompleteMultipartUploadAsync(string bucket, string key, Guid upload, IReadOnlyList<S3PartTag> parts, CancellationToken cancellationToken)
    {
        var u = UploadOf(bucket, key, upload);
        var content = new MemoryStream();
        var md5s = new MemoryStream();
        foreach (var part in parts)
        {
            if (!u.Parts.TryGetValue(part.PartNumber, out var stored) || stored.ETag != part.ETag)
                throw new JobValidationException("parts", $"part {part.PartNumber} was not uploaded with ETag {part.ETag}");
            content.Write(stored.Bytes);
            md5s.Write(MD5.HashData(stored.Bytes));
        }

        var bytes = content.ToArray();
        var file = new VolumeFile(key, bytes.Length, Convert.ToHexStringLower(SHA256.HashData(bytes)),
            $"\"{Convert.ToHexStringLower(MD5.HashData(md5s.ToArray()))}-{parts.Count}\"", DateTimeOffset.UtcNow);
        var b = Of(bucket);
        lock (b)
            b.Objects[key] = (file, bytes);
        b.Uploads.TryRemove(upload, out _);
        return Task.FromResult(file);
    }

    public Task AbortMultipartUploadAsync(string bucket, string key, Guid upload, CancellationToken cancellationToken)
    {
        UploadOf(bucket, key, upload);
        Of(bucket).Uploads.TryRemove(upload, out _);
        return Task.CompletedTask;
    }

    private async Task<byte[]> ReadAllAsync(Stream body, CancellationToken cancellationToken)
    {
        var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = await body.ReadAsync(chunk, cancellationToken)) > 0)
        {
            buffer.Write(chunk, 0, read);
            FirstBytesRead?.TrySetResult();
        }

        return buffer.ToArray();
    }

    private Bucket Of(string bucket) => _buckets.TryGetValue(bucket, out var b) ? b : throw new VolumeNotFoundException(bucket);

    private Upload UploadOf(string bucket, string key, Guid upload) =>
        Of(bucket).Uploads.TryGetValue(upload, out var u) && u.Key == key ? u : throw new JobValidationException("upload", $"no upload {upload:N} of '{key}'");

    private sealed record Bucket(DateTimeOffset Created)
    {
        public SortedDictionary<string, (VolumeFile File, byte[] Bytes)> Objects { get; } = new(StringComparer.Ordinal);

        public ConcurrentDictionary<Guid, Upload> Uploads { get; } = new();
    }

    private sealed record Upload(string Key)
    {
        public ConcurrentDictionary<int, (string ETag, byte[] Bytes)> Parts { get; } = new();
    }

    private sealed class Version(VolumeFile file, byte[] bytes) : IS3ObjectVersion
    {
        public VolumeFile File => file;

        public Task<Stream> ReadAsync(long offset, long length, CancellationToken cancellationToken) =>
            Task.FromResult<Stream>(new MemoryStream(bytes, (int)offset, (int)length, writable: false));
    }
}
