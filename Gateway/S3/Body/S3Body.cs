using System.Security.Cryptography;

namespace PoolAI.Gateway.S3.Body;

/// <summary>
/// A request body as a store reads it: exactly <see cref="ContentLength"/> bytes, and every check — the signed
/// SHA-256, Content-MD5, a flexible checksum, the end of an aws-chunked body with its trailer — made before the last
/// byte is returned. A body that fails a check throws from that read, so a store that commits only after reading
/// the whole body never commits a body that fails.
/// </summary>
public sealed class S3Body : Stream
{
    private readonly Stream _inner;
    private readonly IncrementalHash? _sha256;
    private readonly string? _expectedSha256;
    private readonly IncrementalHash? _md5;
    private readonly string? _expectedMd5;
    private readonly S3Checksum? _checksum;
    private readonly Func<string?>? _expectedChecksum;
    private long _read;
    private bool _verified;

    /// <summary>The body of <paramref name="inner"/>, <paramref name="contentLength"/> bytes, with the checks given.</summary>
    /// <param name="inner">The (decoded) body.</param>
    /// <param name="contentLength">Its length, bytes.</param>
    /// <param name="expectedSha256">The signed SHA-256 (lower-case hex), or null.</param>
    /// <param name="expectedMd5">Content-MD5 (base64 of 16 bytes), or null.</param>
    /// <param name="checksum">A flexible checksum to compute, or null.</param>
    /// <param name="expectedChecksum">Its value as the client sent it (a header, or a trailer known only at the end); null when the client sent none.</param>
    public S3Body(Stream inner, long contentLength, string? expectedSha256, string? expectedMd5, S3Checksum? checksum, Func<string?>? expectedChecksum)
    {
        _inner = inner;
        ContentLength = contentLength;
        _expectedSha256 = expectedSha256;
        _sha256 = expectedSha256 is null ? null : IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        _expectedMd5 = expectedMd5;
        _md5 = expectedMd5 is null ? null : IncrementalHash.CreateHash(HashAlgorithmName.MD5);
        _checksum = checksum;
        _expectedChecksum = expectedChecksum;
    }

    /// <summary>Its length, bytes.</summary>
    public long ContentLength { get; }

    /// <summary>True once the whole body has been read and every check passed.</summary>
    public bool IsComplete => _verified;

    /// <summary>The flexible checksum verified (header and value), once the body has been read; null when none was sent.</summary>
    public KeyValuePair<string, string>? VerifiedChecksum { get; private set; }

    /// <inheritdoc />
    public override bool CanRead => true;

    /// <inheritdoc />
    public override bool CanSeek => false;

    /// <inheritdoc />
    public override bool CanWrite => false;

    /// <inheritdoc />
    public override long Length => throw new NotSupportedException();

    /// <inheritdoc />
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    /// <summary>Reads the whole body into memory, for the small XML bodies of S3 requests.</summary>
    /// <exception cref="S3ErrorException">The body fails a check, or is longer than <paramref name="maxBytes"/>.</exception>
    public async Task<byte[]> ReadAllAsync(int maxBytes, CancellationToken cancellationToken)
    {
        if (ContentLength > maxBytes)
            throw S3Errors.InvalidRequest($"this request's body must be at most {maxBytes} bytes (got {ContentLength})");
        var bytes = new byte[ContentLength];
        var offset = 0;
        while (true)
        {
            var read = await ReadAsync(bytes.AsMemory(offset), cancellationToken);
            if (read == 0)
                return bytes;
            offset += read;
        }
    }

    /// <inheritdoc />
    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    /// <inheritdoc />
    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <inheritdoc />
    /// <exception cref="S3ErrorException">IncompleteBody, XAmzContentSHA256Mismatch, BadDigest, or a signature or framing error of an aws-chunked body.</exception>
    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_verified)
            return 0;
        var want = (int)Math.Min(buffer.Length, ContentLength - _read);
        var read = 0;
        if (want > 0)
        {
            read = await _inner.ReadAsync(buffer[..want], cancellationToken);
            if (read == 0)
                throw S3Errors.IncompleteBody($"You did not provide the number of bytes specified by the Content-Length HTTP header: the body ended after {_read} of {ContentLength} bytes.");
            var data = buffer.Span[..read];
            _sha256?.AppendData(data);
            _md5?.AppendData(data);
            _checksum?.Append(data);
            _read += read;
        }
        else if (buffer.Length == 0)
        {
            return 0;
        }

        if (_read == ContentLength)
            await VerifyAsync(cancellationToken);
        return read;
    }

    /// <inheritdoc />
    public override void Flush()
    {
    }

    /// <inheritdoc />
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    /// <inheritdoc />
    public override void SetLength(long value) => throw new NotSupportedException();

    /// <inheritdoc />
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _sha256?.Dispose();
            _md5?.Dispose();
        }

        base.Dispose(disposing);
    }

    private async Task VerifyAsync(CancellationToken cancellationToken)
    {
        // The end of the inner body: an aws-chunked body's last chunk and trailer are read (and their signatures checked) here.
        var probe = new byte[1];
        if (await _inner.ReadAsync(probe, cancellationToken) != 0)
            throw S3Errors.InvalidRequest($"the body is longer than the {ContentLength} bytes announced (Content-Length or x-amz-decoded-content-length)");
        if (_sha256 is not null)
        {
            var computed = Convert.ToHexStringLower(_sha256.GetHashAndReset());
            if (computed != _expectedSha256)
                throw S3Errors.ContentSha256Mismatch(_expectedSha256!, computed);
        }

        if (_md5 is not null && Convert.ToBase64String(_md5.GetHashAndReset()) != _expectedMd5)
            throw S3Errors.BadDigest("Content-MD5");
        if (_checksum is not null)
        {
            var value = _checksum.Base64();
            if (_expectedChecksum?.Invoke() is not { } expected)
                throw S3Errors.InvalidRequest($"x-amz-trailer announced {_checksum.Header}, but the body's trailer does not carry it");
            if (expected != value)
                throw S3Errors.BadDigest(_checksum.Header);
            VerifiedChecksum = new(_checksum.Header, value);
        }

        _verified = true;
    }
}
