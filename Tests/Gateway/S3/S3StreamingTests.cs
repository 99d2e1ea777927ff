using System.Net;
using Amazon.S3;
using Amazon.S3.Model;

namespace PoolAI.Tests.Gateway.S3;

/// <summary>Bodies stream through the gateway: the store reads an object while the client is still sending it.</summary>
[TestClass]
public sealed class S3StreamingTests
{
    [TestMethod]
    [Timeout(120_000, CooperativeCancellation = true)]
    public async Task TheStoreReadsTheFirstBytesBeforeTheClientHasSentTheRest()
    {
        await using var gateway = await S3TestGateway.StartAsync();
        var (_, _, credentials) = await gateway.KeyAsync();
        using var s3 = gateway.Client(credentials);
        gateway.Store!.CreateBucket("streamed");
        gateway.Store.FirstBytesRead = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var url = await s3.GetPreSignedURLAsync(new GetPreSignedUrlRequest
        {
            BucketName = "streamed", Key = "slow.bin", Verb = HttpVerb.PUT, Expires = DateTime.UtcNow.AddMinutes(5), Protocol = Protocol.HTTP,
        });
        // 2 MiB, twice the gateway's JSON body limit; the second half is sent only once the store has read from the first.
        var body = new GatedStream(1024 * 1024, 1024 * 1024, gateway.Store.FirstBytesRead.Task);
        using var http = new HttpClient();

        using var response = await http.PutAsync(url, new StreamContent(body) { Headers = { ContentLength = 2 * 1024 * 1024 } });
        var head = await s3.GetObjectMetadataAsync("streamed", "slow.bin");

        Assert.AreEqual(HttpStatusCode.OK, response.StatusCode, await response.Content.ReadAsStringAsync());
        Assert.AreEqual(2L * 1024 * 1024, head.ContentLength);
    }

    /// <summary><paramref name="first"/> zero bytes, then — once <paramref name="gate"/> completes — <paramref name="rest"/> more.</summary>
    private sealed class GatedStream(int first, int rest, Task gate) : Stream
    {
        private long _sent;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => first + rest;

        public override long Position { get => _sent; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (_sent == first)
                await gate.WaitAsync(TimeSpan.FromSeconds(60), cancellationToken);
            var count = (int)Math.Min(buffer.Length, (_sent < first ? first : first + rest) - _sent);
            buffer.Span[..count].Clear();
            _sent += count;
            return count;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
