using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using PoolAI.Auth;
using PoolAI.Jobs;
using PoolAI.Kinds.DataProcessing;
using PoolAI.Tests.Gateway;
using PoolAI.Volumes;

namespace PoolAI.Tests.Volumes;

/// <summary>
/// Data-processing sync jobs between two real pools: pool A's volumes are mirrored to and from a bucket on pool B's
/// <c>/s3</c> (another S3-compatible service, as far as A can tell), through jobs submitted with the SDK.
/// </summary>
[TestClass]
[DoNotParallelize]
public sealed class VolumeSyncTests
{
    private static readonly byte[] Big = RandomBytes(200_000, seed: 7); // 4 stripes of 64 KiB shards

    private static GatewayFixture _a = null!;
    private static GatewayFixture _b = null!;
    private static string _endpoint = null!;
    private static string _accessKeyId = null!;
    private static string _secret = null!;

    [ClassInitialize]
    public static async Task StartAsync(TestContext context)
    {
        _a = await GatewayFixture.StartAsync();
        _b = await GatewayFixture.StartAsync();
        var (_, key) = await _b.Pool.CreateApiKeyAsync(ApiRoles.Developer, "sync-target");
        using var http = _b.Http(key);
        var credentials = await http.GetFromJsonAsync<JsonElement>("api/s3/credentials");
        (_endpoint, _accessKeyId, _secret) = (credentials.GetProperty("endpoint").GetString()!,
            credentials.GetProperty("access_key_id").GetString()!, credentials.GetProperty("secret_access_key").GetString()!);
    }

    [ClassCleanup]
    public static async Task StopAsync()
    {
        if (_a is not null)
            await _a.DisposeAsync();
        if (_b is not null)
            await _b.DisposeAsync();
    }

    [TestMethod]
    public async Task APushCopiesThePrefixOnceAndARerunSkipsEveryFile()
    {
        var (source, bucket) = (await SourceAsync(), await BucketAsync());

        var first = await RunAsync(Push(source, bucket));

        var output = first.Output;
        Assert.AreEqual(("sync", $"push {source}:data/ → {_endpoint} {bucket}/mirror/: 4 copied (200014 bytes), 0 skipped, 0 deleted", 4, 4, 0, 0, 200_014L, 0L, 0),
            (output.Operation, output.Summary, output.Files, output.Copied, output.Skipped, output.Deleted, output.BytesCopied, output.BytesSkipped, output.Refused.Count));
        Assert.AreEqual((4L, (long?)4L, "files"), (first.Progress!.Step, first.Progress.Total, first.Progress.Unit));
        Assert.AreEqual(200_014.0, first.Progress.Metrics!["bytes_copied"]);
        CollectionAssert.AreEqual(new[] { "mirror/big.bin", "mirror/empty.bin", "mirror/notes.txt", "mirror/sub/deep.txt" }, await PathsAsync(_b, bucket));
        CollectionAssert.AreEqual(Big, await ReadAsync(_b, bucket, "mirror/big.bin"));

        var again = await RunAsync(Push(source, bucket));

        Assert.AreEqual((4, 0, 4, 0, 0L, 200_014L), (again.Output.Files, again.Output.Copied, again.Output.Skipped, again.Output.Deleted, again.Output.BytesCopied, again.Output.BytesSkipped));
    }

    [TestMethod]
    public async Task ARerunWithDeleteCopiesTheChangedFileAndDeletesTheRemovedOne()
    {
        var (source, bucket) = (await SourceAsync(), await BucketAsync());
        await _b.Pool.Volumes.WriteAsync(bucket, "kept/outside.txt", new MemoryStream("not mirrored"u8.ToArray()));
        await RunAsync(Push(source, bucket));
        // Same length, other bytes: only the checksums tell them apart.
        await _a.Pool.Volumes.WriteAsync(source, "data/notes.txt", new MemoryStream("hello SYNC"u8.ToArray()));
        Assert.IsTrue(await _a.Pool.Volumes.Volume(source).DeleteFileAsync("data/sub/deep.txt"));

        var rerun = await RunAsync(Push(source, bucket) with { Delete = true });

        Assert.AreEqual((3, 1, 2, 1, 10L, 200_000L), (rerun.Output.Files, rerun.Output.Copied, rerun.Output.Skipped, rerun.Output.Deleted, rerun.Output.BytesCopied, rerun.Output.BytesSkipped));
        CollectionAssert.AreEqual(new[] { "kept/outside.txt", "mirror/big.bin", "mirror/empty.bin", "mirror/notes.txt" }, await PathsAsync(_b, bucket));
        Assert.AreEqual("hello SYNC", Encoding.UTF8.GetString(await ReadAsync(_b, bucket, "mirror/notes.txt")));
    }

    [TestMethod]
    public async Task APullBringsTheBucketBackIntoAnotherVolumeWithTheSameSha256()
    {
        var (source, bucket) = (await SourceAsync(), await BucketAsync());
        await RunAsync(Push(source, bucket));
        var back = await VolumeAsync(_a, "back");
        var pull = Push(source, bucket) with { Direction = "pull", Volume = back, Prefix = "restored" };

        var pulled = await RunAsync(pull);
        var again = await RunAsync(pull);

        Assert.AreEqual((4, 4, 0, 200_014L), (pulled.Output.Files, pulled.Output.Copied, pulled.Output.Skipped, pulled.Output.BytesCopied));
        Assert.AreEqual($"pull {_endpoint} {bucket}/mirror/ → {back}:restored/: 4 copied (200014 bytes), 0 skipped, 0 deleted", pulled.Output.Summary);
        var original = (await _a.Pool.Volumes.Volume(source).ListAsync(new ListRequest("data/"))).Files.Select(f => (f.Path["data/".Length..], f.Length, f.Sha256)).ToList();
        var restored = (await _a.Pool.Volumes.Volume(back).ListAsync(new ListRequest("restored/"))).Files.Select(f => (f.Path["restored/".Length..], f.Length, f.Sha256)).ToList();
        CollectionAssert.AreEqual(original, restored);
        Assert.AreEqual(Convert.ToHexStringLower(SHA256.HashData(Big)), restored.Single(f => f.Item1 == "big.bin").Sha256);
        Assert.AreEqual((0, 4), (again.Output.Copied, again.Output.Skipped));
    }

    [TestMethod]
    public async Task ASyncSubmittedOverHttpRunsAndBadParametersAreRefusedNamingThem()
    {
        var (source, bucket) = (await SourceAsync(), await BucketAsync());
        using var http = _a.Http(await _a.KeyAsync(ApiRoles.Developer));
        var parameters = new Dictionary<string, object>
        {
            ["direction"] = "push", ["volume"] = source, ["prefix"] = "data", ["endpoint"] = _endpoint, ["bucket"] = bucket,
            ["bucket_prefix"] = "http/", ["access_key_id"] = _accessKeyId, ["secret_access_key"] = _secret, ["delete"] = false,
        };

        using var accepted = await http.PostAsJsonAsync("api/jobs", new { kind = "DataProcessing", model = "sync", parameters });
        Assert.AreEqual(HttpStatusCode.Accepted, accepted.StatusCode, await accepted.Content.ReadAsStringAsync());
        var id = Guid.Parse((await accepted.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!);
        var done = await _a.Pool.WaitAsync(id, TimeSpan.FromMinutes(2));
        Assert.AreEqual(JobStatus.Succeeded, done.Status, done.StatusMessage);
        CollectionAssert.AreEqual(new[] { "http/big.bin", "http/empty.bin", "http/notes.txt", "http/sub/deep.txt" }, await PathsAsync(_b, bucket));
        Assert.IsFalse((await http.GetStringAsync($"api/jobs/{id}")).Contains(_secret, StringComparison.Ordinal), "the secret is shown back");

        foreach (var (json, field, rule) in new (string Json, string Field, string Rule)[]
        {
            ("""{"kind":"DataProcessing","parameters":{}}""", "model", "is required for DataProcessing jobs: the operation (sync)"),
            ("""{"kind":"DataProcessing","model":"shuffle","parameters":{}}""", "model", "must be one of sync; was 'shuffle'"),
            ("""{"kind":"DataProcessing","model":"sync","prompt":"x"}""", "prompt", "is not a field of DataProcessing jobs, which take parameters"),
            ("""{"kind":"DataProcessing","model":"sync","parameters":{"colour":"red"}}""", "parameters.colour", "is not a parameter of DataProcessing jobs; they read direction, volume, prefix, endpoint, bucket, bucket_prefix, access_key_id, secret_access_key, delete, region"),
            ("""{"kind":"DataProcessing","model":"sync","parameters":{"direction":"sideways"}}""", "parameters.direction", "must be 'push' (volume → bucket) or 'pull' (bucket → volume); was 'sideways'"),
            ("""{"kind":"DataProcessing","model":"sync","parameters":{"delete":"maybe"}}""", "parameters.delete", "must be true or false; was 'maybe'"),
        })
        {
            using var refused = await http.PostAsync("api/jobs", new StringContent(json, Encoding.UTF8, "application/json"));
            Assert.AreEqual(HttpStatusCode.BadRequest, refused.StatusCode, json);
            var errors = (await refused.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors");
            Assert.AreEqual(rule, errors.TryGetProperty(field, out var messages) ? messages[0].GetString() : errors.ToString(), json);
        }
    }

    [TestMethod]
    public async Task BadInputIsRefusedNamingTheField()
    {
        var good = Push("some-volume", "some-bucket");
        var cases = new (DataProcessingInput Input, string Field, string Rule)[]
        {
            (good with { Direction = "sideways" }, "input.direction", "must be 'push' (volume → bucket) or 'pull' (bucket → volume); was 'sideways'"),
            (good with { Bucket = null }, "input.bucket", "is required: the bucket to mirror (on another pool: a volume's name)"),
            (good with { Endpoint = "ftp://example.com/s3" }, "input.endpoint", "must be an absolute http or https URL of an S3 service without user info, query or fragment, at most 2048 characters (such as https://s3.us-east-1.amazonaws.com, or another pool's http://host:5080/s3); was 'ftp://example.com/s3'"),
            (good with { Endpoint = "localhost:5080/s3" }, "input.endpoint", "must be an absolute http or https URL of an S3 service without user info, query or fragment, at most 2048 characters (such as https://s3.us-east-1.amazonaws.com, or another pool's http://host:5080/s3); was 'localhost:5080/s3'"),
            (good with { SecretAccessKey = "" }, "input.secret_access_key", "is required: the S3 secret access key"),
        };

        foreach (var (input, field, rule) in cases)
        {
            var refused = await Assert.ThrowsAsync<JobValidationException>(() => _a.Pool.SubmitAsync(JobSpec.DataProcessing(input)));
            Assert.AreEqual((field, rule), (refused.Field, refused.Rule));
        }
    }

    [TestMethod]
    public async Task TheJobsViewNeverShowsItsCredentials()
    {
        var (source, bucket) = (await SourceAsync(), await BucketAsync());

        var done = await RunAsync(Push(source, bucket));
        var view = await _a.Pool.GetAsync(done.Id);
        using var http = _a.Http(await _a.KeyAsync(ApiRoles.Admin));
        var json = await http.GetStringAsync($"api/jobs/{done.Id}");

        var shown = (DataProcessingInput)view.Spec.Input!;
        Assert.AreEqual(("(redacted)", "(redacted)"), (shown.AccessKeyId, shown.SecretAccessKey));
        Assert.AreEqual(Push(source, bucket) with { AccessKeyId = "(redacted)", SecretAccessKey = "(redacted)" }, shown);
        StringAssert.Contains(json, "\"secret_access_key\":\"(redacted)\"");
        Assert.IsFalse(json.Contains(_secret, StringComparison.Ordinal), json);
        Assert.IsFalse(json.Contains(_accessKeyId, StringComparison.Ordinal), json);
        Assert.IsFalse(_a.Log.Contains(_secret, StringComparison.Ordinal), "the secret reached pool A's log");
    }

    [TestMethod]
    public async Task AWrongSecretFailsTheJobOnceNamingTheSecret()
    {
        var (source, bucket) = (await SourceAsync(), await BucketAsync());

        var submitted = await _a.Pool.SubmitAsync(JobSpec.DataProcessing(Push(source, bucket) with { SecretAccessKey = "not-the-secret" }));
        var failed = await _a.Pool.WaitAsync(submitted.Id, TimeSpan.FromMinutes(2));

        Assert.AreEqual(JobStatus.Failed, failed.Status);
        Assert.AreEqual($"input.secret_access_key: the endpoint {_endpoint} refused the signature: the secret access key (or the region) is not the one for this access key id (SignatureDoesNotMatch)", failed.StatusMessage);
        Assert.AreEqual(1, failed.Attempts.Count);
    }

    [TestMethod]
    public async Task AFileOverTheSinglePutLimitGoesUpInPartsAndIsCopiedAgainWhereTheTargetKeepsNoSha256()
    {
        var (source, bucket) = (await VolumeAsync(_a, "src"), await BucketAsync());
        var large = RandomBytes((11 << 20) + 3, seed: 9);
        await _a.Pool.Volumes.WriteAsync(source, "data/large.bin", new MemoryStream(large));
        // The engine itself, in this process, with parts of S3's least size (a job's limit is 5 GiB).
        using var s3 = new S3Bucket(new Uri(_endpoint), bucket, "us-east-1", _accessKeyId, _secret) { SinglePutLimit = 5 << 20, PartBytes = 5 << 20 };

        var first = await new VolumeSync(_a.Pool.Volumes, s3, Push(source, bucket)).RunAsync(CancellationToken.None);
        var again = await new VolumeSync(_a.Pool.Volumes, s3, Push(source, bucket)).RunAsync(CancellationToken.None);

        Assert.AreEqual((1, 1), (first.Copied, again.Copied));
        var stored = (await _b.Pool.Volumes.Volume(bucket).ListAsync(new ListRequest("mirror/"))).Files.Single();
        Assert.AreEqual(("mirror/large.bin", (11L << 20) + 3), (stored.Path, stored.Length));
        StringAssert.EndsWith(stored.ETag, "-3\"");
        CollectionAssert.AreEqual(large, await ReadAsync(_b, bucket, "mirror/large.bin"));
    }

    [TestMethod]
    public async Task AFileWrittenInPartsIsReadForItsMd5OnARerunInsteadOfCopiedAgain()
    {
        var (source, bucket) = (await VolumeAsync(_a, "src"), await BucketAsync());
        var parts = RandomBytes((5 << 20) + 1000, seed: 11);
        await UploadInPartsAsync(source, "data/parts.bin", parts);
        var written = (await _a.Pool.Volumes.Volume(source).ListAsync(new ListRequest("data/"))).Files.Single();
        Assert.AreEqual((string.Empty, true), (written.Sha256, written.ETag.EndsWith("-2\"", StringComparison.Ordinal)), "a file written in parts has neither a SHA-256 nor an MD5 ETag");

        var first = await RunAsync(Push(source, bucket));
        var again = await RunAsync(Push(source, bucket));

        Assert.AreEqual((1, 0, 0, 1), (first.Output.Copied, first.Output.Skipped, again.Output.Copied, again.Output.Skipped));
        CollectionAssert.AreEqual(parts, await ReadAsync(_b, bucket, "mirror/parts.bin"));
    }

    /// <summary>Writes <paramref name="content"/> to pool A's volume through its <c>/s3</c> as a multipart upload of a 5 MiB part and the rest.</summary>
    private static async Task UploadInPartsAsync(string volume, string key, byte[] content)
    {
        var (_, apiKey) = await _a.Pool.CreateApiKeyAsync(ApiRoles.Developer, "sync-source");
        using var http = _a.Http(apiKey);
        var credentials = await http.GetFromJsonAsync<JsonElement>("api/s3/credentials");
        using var s3 = new Amazon.S3.AmazonS3Client(
            new Amazon.Runtime.BasicAWSCredentials(credentials.GetProperty("access_key_id").GetString(), credentials.GetProperty("secret_access_key").GetString()),
            new Amazon.S3.AmazonS3Config { ServiceURL = credentials.GetProperty("endpoint").GetString(), ForcePathStyle = true, AuthenticationRegion = "us-east-1" });
        var upload = await s3.InitiateMultipartUploadAsync(volume, key);
        var etags = new List<Amazon.S3.Model.PartETag>();
        foreach (var (number, offset, length) in new[] { (1, 0, 5 << 20), (2, 5 << 20, content.Length - (5 << 20)) })
        {
            var part = await s3.UploadPartAsync(new Amazon.S3.Model.UploadPartRequest
            {
                BucketName = volume, Key = key, UploadId = upload.UploadId, PartNumber = number, InputStream = new MemoryStream(content, offset, length),
            });
            etags.Add(new Amazon.S3.Model.PartETag(number, part.ETag));
        }

        await s3.CompleteMultipartUploadAsync(new Amazon.S3.Model.CompleteMultipartUploadRequest { BucketName = volume, Key = key, UploadId = upload.UploadId, PartETags = etags });
    }

    private static DataProcessingInput Push(string volume, string bucket) =>
        DataProcessingInput.Sync("push", volume, "data", _endpoint ?? "http://127.0.0.1:1/s3", bucket, "mirror/", _accessKeyId ?? "PAI000000000000", _secret ?? "secret");

    /// <summary>Submits a sync to pool A, waits for it, asserts it succeeded, and returns its view and output.</summary>
    private static async Task<(Guid Id, DataProcessingOutput Output, JobProgress? Progress)> RunAsync(DataProcessingInput input)
    {
        var submitted = await _a.Pool.SubmitAsync(JobSpec.DataProcessing(input));
        var done = await _a.Pool.WaitAsync(submitted.Id, TimeSpan.FromMinutes(2));
        Assert.AreEqual(JobStatus.Succeeded, done.Status, done.StatusMessage);
        return (done.Id, (DataProcessingOutput)done.Result!.Output, done.Progress);
    }

    /// <summary>A new volume on pool A with data/{empty.bin, notes.txt, big.bin, sub/deep.txt} and other/outside.txt.</summary>
    private static async Task<string> SourceAsync()
    {
        var volume = await VolumeAsync(_a, "src");
        foreach (var (path, bytes) in new[]
        {
            ("data/empty.bin", Array.Empty<byte>()), ("data/notes.txt", "hello sync"u8.ToArray()), ("data/big.bin", Big),
            ("data/sub/deep.txt", "deep"u8.ToArray()), ("other/outside.txt", "not under the prefix"u8.ToArray()),
        })
        {
            await _a.Pool.Volumes.WriteAsync(volume, path, new MemoryStream(bytes));
        }

        return volume;
    }

    private static Task<string> BucketAsync() => VolumeAsync(_b, "dst");

    private static async Task<string> VolumeAsync(GatewayFixture pool, string role)
    {
        var name = $"{role}-{Guid.NewGuid():N}"[..16];
        await pool.Pool.Volumes.CreateAsync(name, new VolumeSpec("mirror:1", ShardBytes: 64 << 10));
        return name;
    }

    private static async Task<string[]> PathsAsync(GatewayFixture pool, string volume) =>
        (await pool.Pool.Volumes.Volume(volume).ListAsync(new ListRequest())).Files.Select(f => f.Path).ToArray();

    private static async Task<byte[]> ReadAsync(GatewayFixture pool, string volume, string path)
    {
        var bytes = new MemoryStream();
        await pool.Pool.Volumes.ReadAsync(volume, path, bytes);
        return bytes.ToArray();
    }

    private static byte[] RandomBytes(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }
}
