using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using PoolAI.Gateway.S3.Signing;

namespace PoolAI.Gateway.S3.Body;

/// <summary>
/// Decodes an aws-chunked body as it is read (https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html):
/// <c>HEX-SIZE[;chunk-signature=SIG]\r\nDATA\r\n</c> chunks, a zero-size last chunk, then (trailer modes) trailing
/// headers <c>name:value\r\n</c>, with <c>x-amz-trailer-signature:SIG\r\n</c> when signed, and an empty line. With a
/// <see cref="ChunkSigner"/> every chunk's signature is checked when its last byte is read, before that byte is
/// returned, and the trailer's when the body ends. Only the framing is buffered (64 KiB); data streams through.
/// </summary>
public sealed class AwsChunkedStream : Stream
{
    private const int MaxLine = 4096;

    private readonly Stream _inner;
    private readonly ChunkSigner? _signer;
    private readonly bool _trailer;
    private readonly byte[] _buffer = new byte[64 * 1024];
    private readonly IncrementalHash _chunkHash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private readonly Dictionary<string, string> _trailers = new(StringComparer.OrdinalIgnoreCase);
    private int _start;
    private int _end;
    private long _remaining = -1;
    private string? _chunkSignature;
    private bool _done;

    /// <summary>Decodes <paramref name="inner"/>; <paramref name="signer"/> null for unsigned chunks; <paramref name="trailer"/> when trailing headers follow the last chunk.</summary>
    public AwsChunkedStream(Stream inner, ChunkSigner? signer, bool trailer)
    {
        _inner = inner;
        _signer = signer;
        _trailer = trailer;
    }

    /// <summary>The trailing headers (lower-case names), once the body has been read to its end.</summary>
    public IReadOnlyDictionary<string, string> Trailers => _trailers;

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

    /// <inheritdoc />
    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    /// <inheritdoc />
    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <inheritdoc />
    /// <exception cref="S3ErrorException">SignatureDoesNotMatch (a chunk or the trailer), IncompleteBody (the body ends early), InvalidRequest (bad framing).</exception>
    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (buffer.Length == 0)
            return 0;
        while (!_done)
        {
            if (_remaining < 0)
            {
                await ReadChunkHeaderAsync(cancellationToken);
                continue;
            }

            if (_end == _start && !await FillAsync(cancellationToken))
                throw S3Errors.IncompleteBody($"the aws-chunked body ended inside a chunk ({_remaining} bytes missing)");
            var count = (int)Math.Min(Math.Min(_remaining, _end - _start), buffer.Length);
            _buffer.AsSpan(_start, count).CopyTo(buffer.Span);
            if (_signer is not null)
                _chunkHash.AppendData(_buffer, _start, count);
            _start += count;
            _remaining -= count;
            if (_remaining == 0)
            {
                await ExpectLineEndAsync(cancellationToken);
                VerifyChunk();
                _remaining = -1;
            }

            return count;
        }

        return 0;
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
            _chunkHash.Dispose();
        base.Dispose(disposing);
    }

    private async Task ReadChunkHeaderAsync(CancellationToken cancellationToken)
    {
        var line = await ReadLineAsync(cancellationToken) ?? throw S3Errors.IncompleteBody("the aws-chunked body ended before its last (zero-size) chunk");
        var semicolon = line.IndexOf(';', StringComparison.Ordinal);
        var sizeText = semicolon < 0 ? line : line[..semicolon];
        if (sizeText.Length is 0 or > 16 || !long.TryParse(sizeText, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var size) || size < 0)
            throw S3Errors.InvalidRequest($"aws-chunked: '{Shorten(line)}' is not a chunk header (HEX-SIZE;chunk-signature=SIGNATURE)");
        _chunkSignature = null;
        if (_signer is not null)
        {
            const string Prefix = "chunk-signature=";
            var extension = semicolon < 0 ? "" : line[(semicolon + 1)..].Trim();
            if (!extension.StartsWith(Prefix, StringComparison.Ordinal) || extension.Length != Prefix.Length + 64)
                throw S3Errors.InvalidRequest($"aws-chunked: the chunk header '{Shorten(line)}' lacks chunk-signature=SIGNATURE (64 hex digits)");
            _chunkSignature = extension[Prefix.Length..];
        }

        if (size > 0)
        {
            _remaining = size;
            return;
        }

        VerifyChunk();
        if (_trailer)
            await ReadTrailersAsync(cancellationToken);
        else if (await ReadLineAsync(cancellationToken) is { Length: > 0 } extra)
            throw S3Errors.InvalidRequest($"aws-chunked: '{Shorten(extra)}' after the last chunk");
        if (_start < _end || await FillAsync(cancellationToken))
            throw S3Errors.InvalidRequest("aws-chunked: bytes after the end of the body");
        _done = true;
    }

    private async Task ReadTrailersAsync(CancellationToken cancellationToken)
    {
        string? trailerSignature = null;
        while (await ReadLineAsync(cancellationToken) is { Length: > 0 } line)
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0)
                throw S3Errors.InvalidRequest($"aws-chunked: the trailer line '{Shorten(line)}' is not name:value");
            var name = line[..colon].Trim().ToLowerInvariant();
            var value = line[(colon + 1)..].Trim();
            if (name == "x-amz-trailer-signature")
                trailerSignature = value;
            else
                _trailers[name] = value;
        }

        if (_signer is null)
            return;
        if (trailerSignature is null)
            throw S3Errors.SignatureDoesNotMatch("The body's trailing headers carry no x-amz-trailer-signature.");
        var canonical = string.Concat(_trailers.OrderBy(t => t.Key, StringComparer.Ordinal).Select(t => $"{t.Key}:{t.Value}\n"));
        _signer.VerifyTrailer(canonical, trailerSignature);
    }

    private void VerifyChunk()
    {
        if (_signer is not null)
            _signer.VerifyChunk(Convert.ToHexStringLower(_chunkHash.GetHashAndReset()), _chunkSignature!);
    }

    private async Task ExpectLineEndAsync(CancellationToken cancellationToken)
    {
        if (await ReadLineAsync(cancellationToken) is not { Length: 0 })
            throw S3Errors.InvalidRequest("aws-chunked: a chunk's data is not followed by CRLF (is its size right?)");
    }

    /// <summary>The next line without its line end (CRLF, or a bare LF), or null at the end of the body.</summary>
    private async Task<string?> ReadLineAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var newline = Array.IndexOf(_buffer, (byte)'\n', _start, _end - _start);
            if (newline >= 0)
            {
                var length = newline - _start;
                if (length > 0 && _buffer[newline - 1] == '\r')
                    length--;
                var line = Encoding.ASCII.GetString(_buffer, _start, length);
                _start = newline + 1;
                return line;
            }

            if (_end - _start > MaxLine)
                throw S3Errors.InvalidRequest($"aws-chunked: a header or trailer line is longer than {MaxLine} bytes");
            if (!await FillAsync(cancellationToken))
            {
                if (_start == _end)
                    return null;
                throw S3Errors.IncompleteBody("the aws-chunked body ended inside a header line");
            }
        }
    }

    /// <summary>Reads more of the body into the buffer (moving what is left to its start); false at the end of the body.</summary>
    private async Task<bool> FillAsync(CancellationToken cancellationToken)
    {
        if (_start > 0)
        {
            Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
            _end -= _start;
            _start = 0;
        }

        var read = await _inner.ReadAsync(_buffer.AsMemory(_end), cancellationToken);
        _end += read;
        return read > 0;
    }

    private static string Shorten(string text) => text.Length <= 100 ? text : text[..100] + "…";
}

/// <summary>Checks the chunk and trailer signatures of a signed aws-chunked body, each chained to the one before (the first to the request's signature).</summary>
/// <param name="signingKey">The request's signing key.</param>
/// <param name="amzDate">The request's time as signed.</param>
/// <param name="scope">The request's credential scope.</param>
/// <param name="seedSignature">The request's own signature.</param>
public sealed class ChunkSigner(byte[] signingKey, string amzDate, string scope, string seedSignature)
{
    private string _previous = seedSignature.ToLowerInvariant();

    /// <summary>Checks the signature of a chunk whose data has SHA-256 <paramref name="chunkSha256"/> (lower-case hex).</summary>
    /// <exception cref="S3ErrorException">SignatureDoesNotMatch.</exception>
    public void VerifyChunk(string chunkSha256, string signature)
    {
        var expected = SigV4.Sign(signingKey, SigV4.ChunkStringToSign(amzDate, scope, _previous, chunkSha256));
        if (!SigV4.SignaturesEqual(expected, signature))
            throw S3Errors.SignatureDoesNotMatch("The chunk signature we calculated does not match the chunk-signature you provided (the body was changed, or signed with another key).");
        _previous = expected;
    }

    /// <summary>Checks the trailer signature over <paramref name="canonicalTrailers"/> (<c>name:value\n</c> each, sorted).</summary>
    /// <exception cref="S3ErrorException">SignatureDoesNotMatch.</exception>
    public void VerifyTrailer(string canonicalTrailers, string signature)
    {
        var expected = SigV4.Sign(signingKey, SigV4.TrailerStringToSign(amzDate, scope, _previous, canonicalTrailers));
        if (!SigV4.SignaturesEqual(expected, signature))
            throw S3Errors.SignatureDoesNotMatch("The trailer signature we calculated does not match the x-amz-trailer-signature you provided.");
        _previous = expected;
    }
}
