using PoolAI.Volumes;

namespace PoolAI.Gateway.S3;

/// <summary>
/// What the gateway's S3 API (<c>/s3</c>) stores objects in: a bucket is a volume, an object key a file path in it
/// (already checked with <see cref="VolumeNames.CheckPath"/>). The gateway resolves it from its services; without one
/// every S3 request is answered 501 NotImplemented.
/// <para>
/// Errors: <see cref="VolumeNotFoundException"/> (no such volume → NoSuchBucket; with <see cref="VolumeNotFoundException.Path"/>
/// → NoSuchKey); <see cref="PoolAI.Jobs.JobValidationException"/> (field <c>upload</c> → NoSuchUpload, <c>parts</c> →
/// InvalidPart, <c>quota</c> → EntityTooLarge, any other → InvalidArgument naming the field and the rule); an
/// <see cref="S3ErrorException"/> for any other S3 error code. Whatever reading a request body throws must reach the
/// caller unchanged (or as an inner exception): it is how a body whose signature or checksum fails is refused.
/// </para>
/// <para>
/// Bodies are streamed: a store never holds a whole object in memory, and reads a body to its end (the last read
/// verifies the body's signature and checksums, so a store that reads <c>contentLength</c> bytes has read a verified
/// body). A body whose read throws must leave nothing behind: the previous version, or no object, stays visible.
/// </para>
/// </summary>
public interface IS3ObjectStore
{
    /// <summary>The buckets the caller may see (all volumes), by name.</summary>
    Task<IReadOnlyList<S3Bucket>> ListBucketsAsync(CancellationToken cancellationToken);

    /// <summary>True when volume <paramref name="bucket"/> exists.</summary>
    Task<bool> BucketExistsAsync(string bucket, CancellationToken cancellationToken);

    /// <summary>
    /// Writes <paramref name="key"/> from <paramref name="body"/> (<paramref name="contentLength"/> bytes; −1 when
    /// unknown: read to the end) and makes it the current version once the whole body has been read. Its ETag is the
    /// quoted lower-case MD5 hex of the content (<c>"d41d8cd98f00b204e9800998ecf8427e"</c> for no bytes).
    /// </summary>
    /// <exception cref="VolumeNotFoundException">No such volume.</exception>
    /// <exception cref="PoolAI.Jobs.JobValidationException">Field <c>path</c>, <c>quota</c>.</exception>
    Task<VolumeFile> PutObjectAsync(string bucket, string key, Stream body, long contentLength, CancellationToken cancellationToken);

    /// <summary>The current version of <paramref name="key"/>, or null when there is none.</summary>
    /// <exception cref="VolumeNotFoundException">No such volume.</exception>
    Task<VolumeFile?> HeadObjectAsync(string bucket, string key, CancellationToken cancellationToken);

    /// <summary>Opens the current version of <paramref name="key"/> for reading: ranges read later are of this version, even when a newer one is written meanwhile.</summary>
    /// <exception cref="VolumeNotFoundException">No such volume, or no such key (<see cref="VolumeNotFoundException.Path"/> set).</exception>
    Task<IS3ObjectVersion> OpenAsync(string bucket, string key, CancellationToken cancellationToken);

    /// <summary>Deletes <paramref name="key"/>; false when there was none.</summary>
    /// <exception cref="VolumeNotFoundException">No such volume.</exception>
    Task<bool> DeleteObjectAsync(string bucket, string key, CancellationToken cancellationToken);

    /// <summary>
    /// One page of keys in key order (S3's ListObjectsV2 semantics): after <see cref="ListRequest.StartAfter"/>, with
    /// <see cref="ListRequest.Prefix"/>; with a delimiter, keys that have it after the prefix are rolled up into common
    /// prefixes, each listed once across pages (a <see cref="ListRequest.StartAfter"/> equal to a common prefix skips
    /// every key under it). At most <see cref="ListRequest.Limit"/> entries (keys plus common prefixes).
    /// </summary>
    /// <exception cref="VolumeNotFoundException">No such volume.</exception>
    Task<VolumeListing> ListObjectsAsync(string bucket, ListRequest request, CancellationToken cancellationToken);

    /// <summary>Starts a multipart upload of <paramref name="key"/>; returns its id.</summary>
    /// <exception cref="VolumeNotFoundException">No such volume.</exception>
    Task<Guid> CreateMultipartUploadAsync(string bucket, string key, CancellationToken cancellationToken);

    /// <summary>
    /// Writes part <paramref name="partNumber"/> (1–10000) of <paramref name="upload"/> from <paramref name="body"/>
    /// (<paramref name="contentLength"/> bytes, as for <see cref="PutObjectAsync"/>), replacing an earlier part of that
    /// number; returns the part's ETag, the quoted MD5 hex of its bytes.
    /// </summary>
    /// <exception cref="PoolAI.Jobs.JobValidationException">Field <c>upload</c> (unknown, or made for another key), <c>quota</c>.</exception>
    Task<string> UploadPartAsync(string bucket, string key, Guid upload, int partNumber, Stream body, long contentLength, CancellationToken cancellationToken);

    /// <summary>
    /// Completes <paramref name="upload"/>: <paramref name="key"/> becomes the named parts in order (ascending part
    /// numbers, each with the ETag its upload returned). The object's ETag is S3's multipart ETag: the quoted MD5 hex
    /// of the parts' binary MD5s concatenated, a dash and the part count (<c>"…-3"</c>).
    /// </summary>
    /// <exception cref="PoolAI.Jobs.JobValidationException">Field <c>upload</c> (unknown, or made for another key), <c>parts</c> (a part not uploaded, or its ETag differs).</exception>
    Task<VolumeFile> CompleteMultipartUploadAsync(string bucket, string key, Guid upload, IReadOnlyList<S3PartTag> parts, CancellationToken cancellationToken);

    /// <summary>Abandons <paramref name="upload"/> and deletes its parts.</summary>
    /// <exception cref="PoolAI.Jobs.JobValidationException">Field <c>upload</c> (unknown, or made for another key).</exception>
    Task AbortMultipartUploadAsync(string bucket, string key, Guid upload, CancellationToken cancellationToken);
}

/// <summary>A bucket: a volume's name and when it was created.</summary>
public sealed record S3Bucket(string Name, DateTimeOffset Created);

/// <summary>A part named by CompleteMultipartUpload.</summary>
/// <param name="PartNumber">1–10000.</param>
/// <param name="ETag">The ETag its UploadPart returned, quoted.</param>
public sealed record S3PartTag(int PartNumber, string ETag);

/// <summary>One version of an object, opened for reading (<see cref="IS3ObjectStore.OpenAsync"/>).</summary>
public interface IS3ObjectVersion
{
    /// <summary>The version: key, length, ETag, time.</summary>
    VolumeFile File { get; }

    /// <summary>A stream of bytes [<paramref name="offset"/>, <paramref name="offset"/> + <paramref name="length"/>) of this version; the range lies within <see cref="VolumeFile.Length"/>.</summary>
    /// <exception cref="VolumeNotFoundException">The version is gone (deleted and its shards removed).</exception>
    Task<Stream> ReadAsync(long offset, long length, CancellationToken cancellationToken);
}
