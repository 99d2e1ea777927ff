using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using PoolAI.Gateway.S3;
using PoolAI.Gateway.S3.Body;
using PoolAI.Gateway.S3.Signing;

namespace PoolAI.Tests.Gateway.S3;

/// <summary>
/// AWS Signature Version 4 as the gateway checks it, pinned to AWS's published examples
/// (https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html, sigv4-query-string-auth.html,
/// sigv4-streaming.html: credentials AKIAIOSFODNN7EXAMPLE / wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY, 2013-05-24) and
/// to a request AWSSDK.S3 4.1 sent with a signed checksum trailer.
/// </summary>
[TestClass]
public sealed class SigV4Tests
{
    private const string ExampleSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
    private const string ExampleCredential = "AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request";

    [TestMethod]
    public void TheAwsGetObjectExampleHasItsPublishedSignature()
    {
        var request = Request("GET", "/test.txt", ("Host", "examplebucket.s3.amazonaws.com"), ("Range", "bytes=0-9"),
            ("x-amz-content-sha256", SigV4.EmptySha256), ("x-amz-date", "20130524T000000Z"),
            ("Authorization", $"AWS4-HMAC-SHA256 Credential={ExampleCredential},SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"));

        var (claim, canonical, signature) = Check(request, ExampleSecret);

        Assert.AreEqual("GET\n/test.txt\n\nhost:examplebucket.s3.amazonaws.com\nrange:bytes=0-9\nx-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\nx-amz-date:20130524T000000Z\n\nhost;range;x-amz-content-sha256;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", canonical);
        Assert.AreEqual("AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972", SigV4.StringToSign(claim.AmzDate, claim.Scope, canonical));
        Assert.AreEqual("f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41", signature);
        Assert.IsTrue(SigV4.SignaturesEqual(signature, claim.Signature));
    }

    [TestMethod]
    public void TheAwsPutObjectExampleHasItsPublishedSignature()
    {
        var request = Request("PUT", "/test$file.text", ("Host", "examplebucket.s3.amazonaws.com"), ("Date", "Fri, 24 May 2013 00:00:00 GMT"),
            ("x-amz-date", "20130524T000000Z"), ("x-amz-storage-class", "REDUCED_REDUNDANCY"),
            ("x-amz-content-sha256", "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072"),
            ("Authorization", $"AWS4-HMAC-SHA256 Credential={ExampleCredential},SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class,Signature=98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd"));

        var (_, canonical, signature) = Check(request, ExampleSecret);

        StringAssert.StartsWith(canonical, "PUT\n/test%24file.text\n\ndate:Fri, 24 May 2013 00:00:00 GMT\n");
        Assert.AreEqual("98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd", signature);
    }

    [TestMethod]
    public void TheAwsListObjectsExampleHasItsPublishedSignature()
    {
        var request = Request("GET", "/?max-keys=2&prefix=J", ("Host", "examplebucket.s3.amazonaws.com"),
            ("x-amz-content-sha256", SigV4.EmptySha256), ("x-amz-date", "20130524T000000Z"),
            ("Authorization", $"AWS4-HMAC-SHA256 Credential={ExampleCredential},SignedHeaders=host;x-amz-content-sha256;x-amz-date,Signature=34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7"));

        var (_, canonical, signature) = Check(request, ExampleSecret);

        StringAssert.StartsWith(canonical, "GET\n/\nmax-keys=2&prefix=J\n");
        Assert.AreEqual("34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7", signature);
    }

    [TestMethod]
    public void TheAwsPresignedUrlExampleHasItsPublishedSignature()
    {
        var request = Request("GET",
            "/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404",
            ("Host", "examplebucket.s3.amazonaws.com"));

        var (claim, canonical, signature) = Check(request, ExampleSecret);

        Assert.AreEqual("GET\n/test.txt\nX-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host\nhost:examplebucket.s3.amazonaws.com\n\nhost\nUNSIGNED-PAYLOAD", canonical);
        Assert.AreEqual("aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404", signature);
        Assert.AreEqual(TimeSpan.FromDays(1), claim.Expires);
    }

    [TestMethod]
    public async Task TheAwsChunkedUploadExampleDecodesWithEveryChunkSignatureChecked()
    {
        var (_, signingKey, seed) = ChunkedExample();
        var body = ExampleChunks(corrupt: false);

        var decoded = await ReadAllAsync(new S3Body(new AwsChunkedStream(new MemoryStream(body), new ChunkSigner(signingKey, "20130524T000000Z", "20130524/us-east-1/s3/aws4_request", seed), trailer: false), 66560, null, null, null, null));

        Assert.AreEqual("4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9", seed, "the seed signature is AWS's");
        Assert.AreEqual(66824, body.Length, "the example's Content-Length");
        Assert.AreEqual(66560, decoded.Length);
        Assert.IsTrue(decoded.All(b => b == (byte)'a'));
    }

    [TestMethod]
    public async Task AChangedByteInAChunkIsSignatureDoesNotMatchBeforeTheChunksLastByteIsRead()
    {
        var (_, signingKey, seed) = ChunkedExample();
        var stream = new S3Body(new AwsChunkedStream(new MemoryStream(ExampleChunks(corrupt: true)), new ChunkSigner(signingKey, "20130524T000000Z", "20130524/us-east-1/s3/aws4_request", seed), trailer: false), 66560, null, null, null, null);
        var read = 0L;
        var buffer = new byte[4096];

        var error = await Assert.ThrowsExactlyAsync<S3ErrorException>(async () =>
        {
            while (await stream.ReadAsync(buffer) is var n and > 0)
                read += n;
        });

        Assert.AreEqual(("SignatureDoesNotMatch", 403), (error.Code, error.Status));
        Assert.IsTrue(read < 66560, $"{read} bytes were handed out; the changed chunk's last bytes must not be");
    }

    [TestMethod]
    public async Task ARequestAwsSdkS3SentWithASignedChecksumTrailerVerifies()
    {
        // Captured from AWSSDK.S3 4.1.0.1: PutObject of "hello" over plain HTTP, secret access key "secretsecret".
        var request = Request("PUT", "/s3/bucket-a/dir/hello%20world%2Bx.txt", ("Host", "127.0.0.1:5931"), ("Content-Type", "text/plain"), ("Content-Length", "298"),
            ("x-amz-sdk-checksum-algorithm", "CRC32"), ("X-Amz-Date", "20261207T214101Z"), ("X-Amz-Trailer", "x-amz-checksum-crc32"), ("X-Amz-Decoded-Content-Length", "5"),
            ("X-Amz-Content-SHA256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"), ("Content-Encoding", "aws-chunked"),
            ("Authorization", "AWS4-HMAC-SHA256 Credential=PAIABCDEF012345/20261207/us-east-1/s3/aws4_request, SignedHeaders=content-encoding;content-length;content-type;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-sdk-checksum-algorithm;x-amz-trailer, Signature=7df76b18d6f9a5991d4cbbe790be327647a44d69c7a34b39833aebdbee79b8c3"));
        const string Body = "5;chunk-signature=1deca40e8eca4b0c7b8de6ead9d022b2e51a425a181805440f525af412570224\r\nhello\r\n"
            + "0;chunk-signature=6ac0620b3cfe9a341e16cedd90033a3d8ce7cfe19a02f91ebed394ea275115b7\r\n"
            + "x-amz-checksum-crc32:NhCmhg==\r\nx-amz-trailer-signature:521578cdce8616bcc19fc7bdd85c62680aea981adc661bbb7c460419abc5acef\r\n\r\n";
        var (claim, _, signature) = Check(request, "secretsecret");
        var signingKey = SigV4.SigningKey("secretsecret", claim.Date, claim.Region);
        var decoder = new AwsChunkedStream(new MemoryStream(Encoding.ASCII.GetBytes(Body)), new ChunkSigner(signingKey, claim.AmzDate, claim.Scope, signature), trailer: true);

        var body = new S3Body(decoder, 5, null, null, S3Checksum.Create("crc32"), () => decoder.Trailers.GetValueOrDefault("x-amz-checksum-crc32"));
        var bytes = await ReadAllAsync(body);

        Assert.AreEqual("7df76b18d6f9a5991d4cbbe790be327647a44d69c7a34b39833aebdbee79b8c3", signature);
        Assert.AreEqual(298, Body.Length);
        Assert.AreEqual("hello", Encoding.ASCII.GetString(bytes));
        Assert.AreEqual(new KeyValuePair<string, string>("x-amz-checksum-crc32", "NhCmhg=="), body.VerifiedChecksum);
    }

    [TestMethod]
    public async Task AnUnsignedBodyWhoseTrailingChecksumDiffersIsBadDigest()
    {
        const string Body = "5\r\nhellp\r\n0\r\nx-amz-checksum-crc32:NhCmhg==\r\n\r\n";
        var decoder = new AwsChunkedStream(new MemoryStream(Encoding.ASCII.GetBytes(Body)), signer: null, trailer: true);
        var body = new S3Body(decoder, 5, null, null, S3Checksum.Create("crc32"), () => decoder.Trailers.GetValueOrDefault("x-amz-checksum-crc32"));

        var error = await Assert.ThrowsExactlyAsync<S3ErrorException>(() => ReadAllAsync(body));

        Assert.AreEqual(("BadDigest", "The x-amz-checksum-crc32 you specified did not match the calculated checksum."), (error.Code, error.Message));
    }

    [TestMethod]
    public async Task ABodyShorterOrLongerThanAnnouncedIsRefused()
    {
        var shorter = new S3Body(new MemoryStream("abc"u8.ToArray()), 5, null, null, null, null);
        var longer = new S3Body(new AwsChunkedStream(new MemoryStream("5\r\nhello\r\n3\r\nabc\r\n0\r\n\r\n"u8.ToArray()), null, trailer: true), 5, null, null, null, null);

        var incomplete = await Assert.ThrowsExactlyAsync<S3ErrorException>(() => ReadAllAsync(shorter));
        var extra = await Assert.ThrowsExactlyAsync<S3ErrorException>(() => ReadAllAsync(longer));

        Assert.AreEqual("IncompleteBody", incomplete.Code);
        Assert.AreEqual(("InvalidRequest", "the body is longer than the 5 bytes announced (Content-Length or x-amz-decoded-content-length)"), (extra.Code, extra.Message));
    }

    [TestMethod]
    public void TheChecksumsOfHelloAreTheOnesAwsSdkS3Sent()
    {
        string Of(string name)
        {
            var checksum = S3Checksum.Create(name)!;
            checksum.Append("hello"u8);
            return checksum.Base64();
        }

        Assert.AreEqual("NhCmhg==", Of("crc32"));
        Assert.AreEqual("mnG7TA==", Of("CRC32C"));
        Assert.AreEqual("M3eFcAZSQlc=", Of("crc64nvme"));
        Assert.AreEqual("LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ=", Of("sha256"));
        Assert.AreEqual("qvTGHdzF6KLavt4PO0gs2a6pQ00=", Of("sha1"));
        Assert.IsNull(S3Checksum.Create("md5"));
    }

    [TestMethod]
    public void UriEncodingKeepsOnlyUnreservedCharactersAndSlashesOfPaths()
    {
        Assert.AreEqual("dir/a%20b%2Bc%20%C3%BC~%281%29.txt", SigV4.UriEncode("dir/a b+c ü~(1).txt", keepSlash: true));
        Assert.AreEqual("a%2Fb%3D%26-_.~", SigV4.UriEncode("a/b=&-_.~", keepSlash: false));
        Assert.AreEqual("a=1&a=2&b=&c%2Fd=x%20y", SigV4.CanonicalQuery([new("c/d", "x y"), new("b", ""), new("a", "2"), new("a", "1")]));
        Assert.AreEqual("a b c", SigV4.CanonicalHeaderValue("  a   b c "));
    }

    [TestMethod]
    public void AMalformedOrForeignAuthorizationIsRefusedWithS3sCodes()
    {
        var v2 = Assert.ThrowsExactly<S3ErrorException>(() => Claim(Request("GET", "/", ("Host", "h"), ("Authorization", "AWS AKIA:c2lnbmF0dXJl"))));
        var bearer = Assert.ThrowsExactly<S3ErrorException>(() => Claim(Request("GET", "/", ("Host", "h"), ("Authorization", "Bearer pai_x"))));
        var service = Assert.ThrowsExactly<S3ErrorException>(() => Claim(Request("GET", "/", ("Host", "h"), ("x-amz-date", "20130524T000000Z"),
            ("Authorization", $"AWS4-HMAC-SHA256 Credential=AK/20130524/us-east-1/ec2/aws4_request,SignedHeaders=host;x-amz-date,Signature={new string('0', 64)}"))));
        var expires = Assert.ThrowsExactly<S3ErrorException>(() => Claim(Request("GET",
            $"/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AK%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=604801&X-Amz-SignedHeaders=host&X-Amz-Signature={new string('0', 64)}",
            ("Host", "h"))));

        Assert.AreEqual(("InvalidRequest", 400), (v2.Code, v2.Status));
        Assert.AreEqual(("InvalidArgument", "Authorization"), (bearer.Code, bearer.Details.Single(d => d.Key == "ArgumentName").Value));
        Assert.AreEqual(("AuthorizationHeaderMalformed", "the credential's service must be 's3' (got 'ec2')"), (service.Code, service.Message));
        Assert.AreEqual("AuthorizationQueryParametersError", expires.Code);
        Assert.IsNull(Claim(Request("GET", "/", ("Host", "h"))), "an anonymous request carries no claim");
    }

    private static DefaultHttpContext Request(string method, string rawTarget, params (string Name, string Value)[] headers)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = method;
        var question = rawTarget.IndexOf('?', StringComparison.Ordinal);
        context.Request.Path = Uri.UnescapeDataString(question < 0 ? rawTarget : rawTarget[..question]);
        context.Request.QueryString = question < 0 ? QueryString.Empty : new QueryString(rawTarget[question..]);
        context.Features.Get<IHttpRequestFeature>()!.RawTarget = rawTarget;
        foreach (var (name, value) in headers)
            context.Request.Headers.Append(name, value);
        return context;
    }

    private static SigV4Claim? Claim(DefaultHttpContext context) => SigV4Claim.Read(context.Request, RequestTarget.Of(context.Request));

    /// <summary>The claim of a request, its canonical request and the signature the gateway computes for it with <paramref name="secret"/>.</summary>
    private static (SigV4Claim Claim, string Canonical, string Signature) Check(DefaultHttpContext context, string secret)
    {
        var target = RequestTarget.Of(context.Request);
        var claim = SigV4Claim.Read(context.Request, target)!;
        var payload = claim.Presigned ? SigV4.UnsignedPayload : S3SigV4Handler.PayloadHashOf(context.Request);
        var canonical = S3SigV4Handler.CanonicalRequest(context.Request, target, claim, payload);
        return (claim, canonical, SigV4.Sign(SigV4.SigningKey(secret, claim.Date, claim.Region), SigV4.StringToSign(claim.AmzDate, claim.Scope, canonical)));
    }

    private static (DefaultHttpContext Request, byte[] SigningKey, string Seed) ChunkedExample()
    {
        var request = Request("PUT", "/examplebucket/chunkObject.txt", ("Host", "s3.amazonaws.com"), ("x-amz-date", "20130524T000000Z"),
            ("x-amz-storage-class", "REDUCED_REDUNDANCY"), ("x-amz-content-sha256", SigV4.StreamingPayload), ("Content-Encoding", "aws-chunked"),
            ("x-amz-decoded-content-length", "66560"), ("Content-Length", "66824"),
            ("Authorization", $"AWS4-HMAC-SHA256 Credential={ExampleCredential},SignedHeaders=content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class,Signature=4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"));
        var (claim, _, seed) = Check(request, ExampleSecret);
        return (request, SigV4.SigningKey(ExampleSecret, claim.Date, claim.Region), seed);
    }

    /// <summary>AWS's example body: 65536 and 1024 bytes of 'a' and the last chunk, with their published signatures (one byte of the second chunk changed when <paramref name="corrupt"/>).</summary>
    private static byte[] ExampleChunks(bool corrupt)
    {
        var body = new MemoryStream();
        foreach (var (size, signature) in new[]
        {
            (65536, "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648"),
            (1024, "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497"),
            (0, "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9"),
        })
        {
            body.Write(Encoding.ASCII.GetBytes($"{size:x};chunk-signature={signature}\r\n"));
            var data = Enumerable.Repeat((byte)'a', size).ToArray();
            if (corrupt && size == 1024)
                data[10] = (byte)'b';
            body.Write(data);
            body.Write("\r\n"u8);
        }

        return body.ToArray();
    }

    private static async Task<byte[]> ReadAllAsync(Stream stream)
    {
        var buffer = new MemoryStream();
        await stream.CopyToAsync(buffer);
        return buffer.ToArray();
    }
}
