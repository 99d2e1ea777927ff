using System.Net;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using PoolAI.Jobs;

namespace PoolAI.Kinds.DataProcessing;

/// <summary>
/// One bucket of an S3-compatible service as a sync uses it: list a folder, read an object's SHA-256 metadata, get,
/// put and delete objects. Requests are path-style (<c>ENDPOINT/BUCKET/KEY</c>, so an endpoint with a path such as another
/// pool's <c>http://host:5080/s3</c> works) and signed with AWS Signature Version 4 by AWSSDK.S3. Checksums beyond S3's
/// required ones are not asked for, so services that know only the classic API answer too. The service's refusals that
/// no retry mends (bad credentials, no such bucket, not an S3 service) are thrown as
/// <see cref="JobValidationException"/>s naming the input field.
/// </summary>
public sealed class S3Bucket : IDisposable
{
    /// <summary>The metadata key (<c>x-amz-meta-sha256</c>) under which a push stores each object's SHA-256, hex.</summary>
    public const string Sha256Metadata = "sha256";

    /// <summary>S3's largest PutObject body, 5 GiB; larger files go up in parts.</summary>
    public const long MaxSinglePutBytes = 5L << 30;

    /// <summary>S3's most parts per upload.</summary>
    public const int MaxParts = 10_000;

    private readonly AmazonS3Client _s3;
    private readonly string _endpoint;

    /// <summary>A client of <paramref name="bucket"/> at <paramref name="endpoint"/>.</summary>
    /// <param name="endpoint">The service's URL (path-style requests go below it).</param>
    /// <param name="bucket">The bucket.</param>
    /// <param name="region">The region requests are signed for.</param>
    /// <param name="accessKeyId">Access key id.</param>
    /// <param name="secretAccessKey">Secret access key.</param>
    public S3Bucket(Uri endpoint, string bucket, string region, string accessKeyId, string secretAccessKey)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        _endpoint = endpoint.ToString();
        Name = bucket;
        _s3 = new AmazonS3Client(new BasicAWSCredentials(accessKeyId, secretAccessKey), new AmazonS3Config
        {
            ServiceURL = _endpoint,
            ForcePathStyle = true,
            AuthenticationRegion = region,
            // The endpoint is the job's, not the environment's (AWS_ENDPOINT_URL) or a profile's.
            IgnoreConfiguredEndpointUrls = true,
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
            MaxErrorRetry = 3,
            // One request may carry a 5 GiB body: at 2 MB/s that takes 45 minutes.
            Timeout = TimeSpan.FromHours(1),
        });
    }

    /// <summary>The bucket's name.</summary>
    public string Name { get; }

    /// <summary>Files larger than this, bytes, are uploaded in parts (default <see cref="MaxSinglePutBytes"/>).</summary>
    public long SinglePutLimit { get; init; } = MaxSinglePutBytes;

    /// <summary>Smallest part of a multipart upload, bytes (default 64 MiB; more when the file needs over <see cref="MaxParts"/> parts). Each part is held in memory while it is sent.</summary>
    public int PartBytes { get; init; } = 64 << 20;

    /// <summary>Every object whose key starts with <paramref name="prefix"/>, in key order, with its size and ETag.</summary>
    /// <exception cref="JobValidationException">The service refused the credentials or has no such bucket.</exception>
    public async IAsyncEnumerable<S3Object> ListAsync(string prefix, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        string? token = null;
        do
        {
            var page = await CallAsync(() => _s3.ListObjectsV2Async(new ListObjectsV2Request { BucketName = Name, Prefix = prefix, ContinuationToken = token }, cancellationToken));
            foreach (var item in page.S3Objects ?? [])
                yield return item;
            token = page.IsTruncated == true ? page.NextContinuationToken : null;
        }
        while (token is not null);
    }

    /// <summary>The SHA-256 (hex) an object carries in <c>x-amz-meta-sha256</c>; null when it carries none or is gone.</summary>
    public async Task<string?> Sha256Async(string key, CancellationToken cancellationToken)
    {
        try
        {
            // Not through CallAsync: a HEAD answer has no body, so a missing object is a bare 404.
            var head = await _s3.GetObjectMetadataAsync(new GetObjectMetadataRequest { BucketName = Name, Key = key }, cancellationToken);
            return head.Metadata[Sha256Metadata] is { Length: > 0 } sha ? sha : null;
        }
        catch (AmazonS3Exception ex) when (ex.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    /// <summary>Opens object <paramref name="key"/> for reading; dispose the response.</summary>
    public Task<GetObjectResponse> GetAsync(string key, CancellationToken cancellationToken) =>
        CallAsync(() => _s3.GetObjectAsync(new GetObjectRequest { BucketName = Name, Key = key }, cancellationToken));

    /// <summary>
    /// Stores <paramref name="length"/> bytes of <paramref name="content"/> as object <paramref name="key"/>, with its SHA-256 in
    /// <c>x-amz-meta-sha256</c>: in one request (checked by the service against <c>x-amz-checksum-sha256</c>) up to
    /// <see cref="SinglePutLimit"/>, else in parts.
    /// </summary>
    /// <param name="key">The object's key.</param>
    /// <param name="content">The bytes, read once from its position; a small body is read into memory first so a failed request can be retried.</param>
    /// <param name="length">Bytes to store.</param>
    /// <param name="sha256">SHA-256 of the bytes, hex; null when unknown (then neither header is sent).</param>
    /// <param name="cancellationToken">Stops the upload.</param>
    public async Task PutAsync(string key, Stream content, long length, string? sha256, CancellationToken cancellationToken)
    {
        if (length > SinglePutLimit)
        {
            await PutInPartsAsync(key, content, length, sha256, cancellationToken);
            return;
        }

        // Up to 8 MiB the body is sent from memory: the SDK then signs it whole and can resend it.
        Stream body = content;
        if (length <= 8 << 20)
        {
            var buffer = new MemoryStream((int)length);
            await CopyExactlyAsync(content, buffer, length, cancellationToken);
            buffer.Position = 0;
            body = buffer;
        }

        var request = new PutObjectRequest
        {
            BucketName = Name,
            Key = key,
            InputStream = body,
            AutoCloseStream = false,
        };
        request.Headers.ContentLength = length;
        if (sha256 is not null)
        {
            request.ChecksumSHA256 = Convert.ToBase64String(Convert.FromHexString(sha256));
            request.Metadata.Add(Sha256Metadata, sha256);
        }

        await CallAsync(() => _s3.PutObjectAsync(request, cancellationToken));
    }

    /// <summary>Deletes object <paramref name="key"/> (nothing when it is gone).</summary>
    public Task DeleteAsync(string key, CancellationToken cancellationToken) =>
        CallAsync(() => _s3.DeleteObjectAsync(new DeleteObjectRequest { BucketName = Name, Key = key }, cancellationToken));

    /// <inheritdoc />
    public void Dispose() => _s3.Dispose();

    private async Task PutInPartsAsync(string key, Stream content, long length, string? sha256, CancellationToken cancellationToken)
    {
        var partBytes = Math.Max(PartBytes, (int)Math.Min(int.MaxValue, ((length + MaxParts - 1) / MaxParts + (1 << 20) - 1) >> 20 << 20));
        var create = new InitiateMultipartUploadRequest { BucketName = Name, Key = key };
        if (sha256 is not null)
            create.Metadata.Add(Sha256Metadata, sha256);
        var upload = (await CallAsync(() => _s3.InitiateMultipartUploadAsync(create, cancellationToken))).UploadId;
        try
        {
            var etags = new List<PartETag>();
            var buffer = new byte[partBytes];
            for (long sent = 0, part = 1; sent < length; part++)
            {
                var size = (int)Math.Min(partBytes, length - sent);
                await content.ReadExactlyAsync(buffer.AsMemory(0, size), cancellationToken);
                var request = new UploadPartRequest
                {
                    BucketName = Name, Key = key, UploadId = upload, PartNumber = (int)part, PartSize = size,
                    InputStream = new MemoryStream(buffer, 0, size, writable: false), IsLastPart = sent + size == length,
                };
                var uploaded = await CallAsync(() => _s3.UploadPartAsync(request, cancellationToken));
                etags.Add(new PartETag((int)part, uploaded.ETag));
                sent += size;
            }

            await CallAsync(() => _s3.CompleteMultipartUploadAsync(new CompleteMultipartUploadRequest { BucketName = Name, Key = key, UploadId = upload, PartETags = etags }, cancellationToken));
        }
        catch
        {
            await _s3.AbortMultipartUploadAsync(new AbortMultipartUploadRequest { BucketName = Name, Key = key, UploadId = upload }, CancellationToken.None);
            throw;
        }
    }

    private static async Task CopyExactlyAsync(Stream from, Stream to, long length, CancellationToken cancellationToken)
    {
        var buffer = new byte[(int)Math.Min(Math.Max(length, 1), 1 << 20)];
        for (long left = length; left > 0;)
        {
            var read = await from.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, left)), cancellationToken);
            if (read == 0)
                throw new EndOfStreamException($"the source ended {left} bytes short of {length}");
            await to.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
            left -= read;
        }
    }

    // Refusals that another attempt would meet again are the input's fault: say which field.
    private async Task<T> CallAsync<T>(Func<Task<T>> call)
    {
        try
        {
            return await call();
        }
        catch (AmazonS3Exception ex) when (ex.ErrorCode is "InvalidAccessKeyId")
        {
            throw new JobValidationException("input.access_key_id", $"the endpoint {_endpoint} does not know the access key id ({ex.ErrorCode}: {ex.Message})");
        }
        catch (AmazonS3Exception ex) when (ex.ErrorCode is "SignatureDoesNotMatch")
        {
            throw new JobValidationException("input.secret_access_key", $"the endpoint {_endpoint} refused the signature: the secret access key (or the region) is not the one for this access key id ({ex.ErrorCode})");
        }
        catch (AmazonS3Exception ex) when (ex.ErrorCode is "AccessDenied")
        {
            throw new JobValidationException("input.access_key_id", $"the endpoint {_endpoint} denies these credentials access to bucket '{Name}' ({ex.ErrorCode}: {ex.Message})");
        }
        catch (AmazonS3Exception ex) when (ex.ErrorCode is "NoSuchBucket")
        {
            throw new JobValidationException("input.bucket", $"the endpoint {_endpoint} has no bucket '{Name}'");
        }
        catch (AmazonS3Exception ex) when (ex.ErrorCode is null && ex.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.MethodNotAllowed)
        {
            throw new JobValidationException("input.endpoint", $"{_endpoint} answered {(int)ex.StatusCode} without an S3 error: is it an S3 endpoint? (another pool's is its gateway's /s3, such as http://host:5080/s3)");
        }
    }
}
