using System.Security.Cryptography;
using PoolAI.Benchmarks.Failover;
using PoolAI.Client.Sdk;
using PoolAI.Tests.Miners;
using PoolAI.Tests.Postgres;
using PoolAI.Volumes;
using Stores = PoolAI.Volumes.Stores;

namespace PoolAI.Tests.Volumes;

/// <summary>Volumes in real processes on PostgreSQL: lost miners, a rebuild, a second loss, and a coordinator killed mid-write.</summary>
[TestClass]
[DoNotParallelize]
public sealed class VolumeProcessTests
{
    private const int MiB = 1 << 20;

    /// <summary>Settings every silo of these tests gets: quick checks, a shared master key, no fsync (the tests kill processes, not machines).</summary>
    private static Dictionary<string, string> VolumeSettings() => new()
    {
        ["PoolAI__Cluster__Clustering"] = "adonet",
        ["PoolAI__Storage__Provider"] = "postgres",
        ["PoolAI__Database__Migrate"] = "true",
        ["PoolAI__Volumes__MasterKey"] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)),
        ["PoolAI__Volumes__CheckInterval"] = "00:00:01",
        ["PoolAI__Volumes__RebuildDelay"] = "00:00:00",
        ["PoolAI__Volumes__AuditPeriod"] = "00:00:00",
        ["PoolAI__Volumes__ScrubInterval"] = "00:00:00",
        ["PoolAI__Volumes__WriteLease"] = "00:00:15",
        ["PoolAI__Volumes__SweepInterval"] = "00:00:05",
        ["PoolAI__Volumes__Store__FlushToDisk"] = "false",
    };

    [TestMethod]
    public async Task FilesOnThreeTrustedAndThreeOpenMinersSurviveTwoKilledMinersTheRebuildAndTwoMoreKilled()
    {
        var cluster = await ProcessCluster.CreateAsync(VolumeSettings());
        cluster.Environment.Remove("PoolAI__Cluster__ClusterId"); // the open-miner pool's client joins the default cluster id
        // The shipped heartbeat (10 s, a miner silent for 35 s is dropped), not the open-miner tests' 1 s: writing 256 MiB
        // through eight processes on two cores can starve a miner's heartbeat for a few seconds, and this test is about
        // the files, not about dropping silent miners (OpenMinerTests covers that).
        var coordinator = new Dictionary<string, string>(cluster.Environment) { ["PoolAI__Role"] = "coordinator", ["PoolAI__Gateway__Miners__HeartbeatInterval"] = "00:00:10" };
        await using var pool = await OpenMinerPool.StartAsync(coordinator);
        var trusted = new List<PoolProcess>();
        try
        {
            for (var i = 0; i < 3; i++)
                trusted.Add(await StartTrustedMinerAsync(cluster.Miner()));
            var open = new List<PoolProcess>();
            for (var i = 0; i < 3; i++)
            {
                var (_, key) = await pool.KeyAsync("miner", $"open-{i}");
                open.Add(await pool.StartMinerAsync(key, null, "--storage", "2GiB"));
            }

            await WaitForStoresAsync(pool.Grains, 6, StoreKind.Open, 3);
            var volumes = pool.Pool.Volumes;
            await volumes.CreateAsync("data", new VolumeSpec("rs:4+2"));

            // 256 MiB in files of awkward sizes: empty, one byte, a shard ± 1, a stripe ± 1, 100 MiB, and the rest.
            var sizes = new List<long> { 0, 1, MiB - 1, MiB, MiB + 1, (4 * MiB) - 1, (4 * MiB) + 1, 100L * MiB };
            var rest = (256L * MiB) - sizes.Sum();
            sizes.AddRange([rest / 3, rest / 3, rest - (2 * (rest / 3))]);
            var hashes = new Dictionary<string, string>();
            for (var i = 0; i < sizes.Count; i++)
            {
                var path = $"set/{i:00}-{sizes[i]}.bin";
                var file = await volumes.WriteAsync("data", path, new SeededStream(sizes[i], i));
                hashes[path] = file.Sha256;
            }

            await AssertAllReadBackAsync(volumes, hashes, "as written");
            trusted[0].KillHard();
            open[0].KillHard();
            await AssertAllReadBackAsync(volumes, hashes, "with a trusted and an open miner killed");

            // Two trusted miners join; the rebuild restores every stripe's six shards on live stores.
            trusted.Add(await StartTrustedMinerAsync(cluster.Miner()));
            trusted.Add(await StartTrustedMinerAsync(cluster.Miner()));
            var health = await WaitForHealthyAsync(volumes.Volume("data"), TimeSpan.FromMinutes(4));
            Assert.IsTrue(health.Repair is { ShardsRewritten: > 0 }, $"{health.Repair}");

            // Kill the two newcomers, which hold the rebuilt shards: still readable.
            trusted[3].KillHard();
            trusted[4].KillHard();
            await AssertAllReadBackAsync(volumes, hashes, "after the rebuild and two more killed");
        }
        finally
        {
            foreach (var process in trusted)
                process.Dispose();
        }
    }

    [TestMethod]
    public async Task ACoordinatorKilledInTheMiddleOfAWriteLeavesThePreviousVersionWholeAndTheHalfWriteIsCollected()
    {
        var cluster = await ProcessCluster.CreateAsync(VolumeSettings());
        var coordinator = PoolProcess.StartSilo("coordinator", cluster.CoordinatorEnvironment);
        PoolProcess? restarted = null;
        var miners = new List<PoolProcess>();
        try
        {
            await coordinator.WaitForLogAsync("Application started", TimeSpan.FromMinutes(2));
            for (var i = 0; i < 3; i++)
                miners.Add(await StartTrustedMinerAsync(cluster.Miner()));
            string first;
            await using (var connection = await PoolConnection.OpenAsync(cluster.Client))
            {
                await WaitForStoresAsync(connection.Services.GetService(typeof(IClusterClient)) as IGrainFactory ?? throw new InvalidOperationException(), 3, StoreKind.Trusted, 3);
                await connection.Volumes.CreateAsync("atomic", new VolumeSpec("rs:2+1"));
                first = (await connection.Volumes.WriteAsync("atomic", "model.bin", new SeededStream(10L * MiB, 1))).Sha256;

                // The second version: kill the coordinator once 30 MiB of its 100 are stored.
                var stored = 0L;
                var killed = new TaskCompletionSource();
                var progress = new Progress<long>(n =>
                {
                    if (Interlocked.Add(ref stored, n) >= 30L * MiB && !killed.Task.IsCompleted)
                    {
                        coordinator.KillHard();
                        killed.TrySetResult();
                    }
                });
                var write = connection.Volumes.WriteAsync("atomic", "model.bin", new SeededStream(100L * MiB, 2, throttle: killed.Task), progress);
                await Assert.ThrowsAsync<Exception>(() => write);
                Assert.IsTrue(killed.Task.IsCompleted, "the coordinator was killed mid-write");
            }

            restarted = PoolProcess.StartSilo("coordinator", cluster.CoordinatorEnvironment);
            await restarted.WaitForLogAsync("Application started", TimeSpan.FromMinutes(2));
            await using var again = await PoolConnection.OpenAsync(cluster.Client);
            var file = await again.Volumes.Volume("atomic").OpenFileAsync("model.bin");
            Assert.AreEqual(10L * MiB, file.File.Length, "the previous version, not a torn file");
            Assert.AreEqual(first, file.File.Sha256);
            var sha = SHA256.Create();
            await using (var read = await again.Volumes.OpenReadAsync("atomic", "model.bin"))
                Assert.AreEqual(first, Convert.ToHexStringLower(await sha.ComputeHashAsync(read)));

            // The half-written version's shards are deleted once its write lease (15 s here) runs out.
            var grains = again.Services.GetService(typeof(IClusterClient)) as IGrainFactory ?? throw new InvalidOperationException();
            var deadline = DateTime.UtcNow.AddMinutes(2);
            while (true)
            {
                var stores = await grains.GetGrain<IStoreDirectoryGrain>(IStoreDirectoryGrain.Default).GetStoresAsync();
                var writes = (await Task.WhenAll(stores.Where(s => s.Alive).Select(s => ShardStores.Of(grains, s.StoreId).ListWritesAsync("atomic")))).SelectMany(w => w).Distinct().ToList();
                if (stores.Count(s => s.Alive) == 3 && writes.Count == 1 && writes[0] == file.Extents[0].Write)
                    break;
                Assert.IsTrue(DateTime.UtcNow < deadline, $"{stores.Count(s => s.Alive)} live stores; writes on them: {string.Join(", ", writes)}; the file's: {file.Extents[0].Write}");
                await Task.Delay(1000);
            }
        }
        finally
        {
            coordinator.Dispose();
            restarted?.Dispose();
            foreach (var miner in miners)
                miner.Dispose();
        }
    }

    [TestMethod]
    public async Task OnPostgresEncryptedShardsHoldNoPlaintextAFlipIsReadAroundAndScrubbedALyingStoreIsCaughtAndBadInputChangesNothing()
    {
        var cluster = await ProcessCluster.CreateAsync(VolumeSettings());
        var coordinator = PoolProcess.StartSilo("coordinator", cluster.CoordinatorEnvironment);
        var root = Directory.CreateTempSubdirectory("poolai-proc-stores-").FullName;
        var miners = new List<PoolProcess>();
        try
        {
            await coordinator.WaitForLogAsync("Application started", TimeSpan.FromMinutes(2));
            for (var i = 0; i < 4; i++)
                miners.Add(await StartTrustedMinerAsync(cluster.Miner(new Dictionary<string, string> { ["PoolAI__Volumes__Store__Directory"] = Path.Combine(root, $"m{i}") })));
            await using var connection = await PoolConnection.OpenAsync(cluster.Client);
            var grains = connection.Services.GetService(typeof(IClusterClient)) as IGrainFactory ?? throw new InvalidOperationException();
            await WaitForStoresAsync(grains, 4, StoreKind.Trusted, 4);
            var endpoints = await WaitForTransportsAsync(grains, 4);
            var volumes = connection.Volumes;
            var moved = ShardTransport.Counts;

            // Encryption at rest: a marker written in a file appears in no shard file.
            await volumes.CreateAsync("secret", new VolumeSpec("rs:2+1", Encrypt: true));
            const string marker = "POOLAI-PROCESS-MARKER-41c7";
            var text = System.Text.Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat(marker + " ", 200_000)));
            await volumes.WriteAsync("secret", "notes.txt", new MemoryStream(text));
            var shardFiles = Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories).Where(f => f.Contains("/secret/", StringComparison.Ordinal)).ToList();
            Assert.IsTrue(shardFiles.Count >= 3, $"{shardFiles.Count} shard files");
            foreach (var file in shardFiles)
                Assert.AreEqual(-1, (await File.ReadAllBytesAsync(file)).AsSpan().IndexOf("POOLAI-PROCESS"u8), $"plaintext in {file}");

            // A flipped byte in a shard file: the read is right, the flip is reported, the scrub rewrites the shard.
            await volumes.CreateAsync("plain", new VolumeSpec("rs:2+1"));
            var content = new byte[3_000_000];
            new Random(4).NextBytes(content);
            await volumes.WriteAsync("plain", "data.bin", new MemoryStream(content));
            var layout = await volumes.Volume("plain").OpenFileAsync("data.bin");
            var flipped = Directory.EnumerateFiles(root, "0.0", SearchOption.AllDirectories).Single(f => f.Contains($"/plain/{layout.Extents[0].Write:N}/", StringComparison.Ordinal));
            var bytes = await File.ReadAllBytesAsync(flipped);
            bytes[1000] ^= 0x20;
            await File.WriteAllBytesAsync(flipped, bytes);
            await using (var read = await volumes.OpenReadAsync("plain", "data.bin"))
            {
                var copy = new MemoryStream();
                await read.CopyToAsync(copy);
                CollectionAssert.AreEqual(content, copy.ToArray());
                Assert.AreEqual(ShardReadStatus.Corrupt, read.Damage.Single().Status);
            }

            var flippedStore = new Stores.ShardStore(StoreRootOf(flipped), flushToDisk: false);
            var deadline = DateTime.UtcNow.AddMinutes(1);
            while ((await flippedStore.GetAsync(ShardIds.Of("plain", layout.Extents[0].Write, 0, 0), 0, int.MaxValue)).Status != ShardReadStatus.Ok)
            {
                Assert.IsTrue(DateTime.UtcNow < deadline, "the flipped shard was not rewritten");
                await Task.Delay(500);
            }

            // A store that keeps other bytes (with checksums that match them) fails its audit: unpaid and suspected.
            var maintenance = grains.GetGrain<IVolumeMaintenanceGrain>("plain");
            var honest = await maintenance.AuditAsync();
            Assert.AreEqual(0, honest.Failed.Count, string.Join("; ", honest.Failed.Values));
            var liar = layout.Extents[0].Stripes[0].Shards[1].Store;
            var liarShard = Directory.EnumerateFiles(root, "0.1", SearchOption.AllDirectories).Single(f => f.Contains($"/plain/{layout.Extents[0].Write:N}/", StringComparison.Ordinal));
            var lies = new Stores.ShardStore(StoreRootOf(liarShard), flushToDisk: false);
            foreach (var stripe in layout.Extents[0].Stripes)
            {
                for (var shard = 0; shard < stripe.Shards.Count; shard++)
                {
                    if (stripe.Shards[shard].Store == liar)
                        await lies.PutAsync(ShardIds.Of("plain", layout.Extents[0].Write, stripe.Index, shard), new byte[stripe.ShardBytes]);
                }
            }

            var ledger = grains.GetGrain<PoolAI.Rewards.IRewardLedgerGrain>(liar);
            var suspicions = (await ledger.GetSummaryAsync()).Suspicions.Count;
            var caught = await maintenance.AuditAsync();
            Assert.IsTrue(caught.Failed.ContainsKey(liar), $"passed: {string.Join(", ", caught.Passed)}");
            Assert.IsFalse(caught.Paid.ContainsKey(liar));
            Assert.AreEqual(suspicions + 1, (await ledger.GetSummaryAsync()).Suspicions.Count);

            // Bad input, across the wire: each refused naming the field; nothing stored changes.
            async Task Refused(string field, Func<Task> action) =>
                Assert.AreEqual(field, (await Assert.ThrowsExactlyAsync<PoolAI.Jobs.JobValidationException>(action)).Field);
            await Refused("layout", () => volumes.CreateAsync("bad-one", new VolumeSpec("rs:0+2")));
            await Refused("layout", () => volumes.CreateAsync("bad-two", new VolumeSpec("rs:200+100")));
            await Refused("layout", () => volumes.CreateAsync("bad-three", new VolumeSpec("rs:4+2")));
            await Refused("path", () => volumes.WriteAsync("plain", "../x", new MemoryStream([1])));
            await Refused("volume", () => volumes.CreateAsync("plain", new VolumeSpec("mirror:2")));
            await Assert.ThrowsExactlyAsync<VolumeNotFoundException>(() => volumes.WriteAsync("no-such-volume", "x", new MemoryStream([1])));
            Assert.AreEqual(2, (await volumes.ListVolumesAsync()).Count);
            var again = new MemoryStream();
            await volumes.ReadAsync("plain", "data.bin", again);
            CollectionAssert.AreEqual(content, again.ToArray());

            // The shards went straight to and from the miners over their shard transport, not through the coordinator.
            var now = ShardTransport.Counts;
            Assert.IsTrue(now.Puts - moved.Puts >= 6 && now.Gets - moved.Gets >= 6, $"shard transport: {moved} before, {now} after");
            // Without a token the pool issued for the volume, a miner's transport stores and serves nothing.
            var (store, endpoint) = endpoints.First();
            var shardId = ShardIds.Of("plain", layout.Extents[0].Write, 0, 1);
            using var http = new HttpClient();
            async Task<(System.Net.HttpStatusCode, string)> Put(string id, string? token)
            {
                using var request = new HttpRequestMessage(HttpMethod.Put, $"{endpoint}/shards?store={store}&id={Uri.EscapeDataString(id)}") { Content = new ByteArrayContent(new byte[16]) };
                if (token is not null)
                    request.Headers.Add(ShardTokens.Header, token);
                using var response = await http.SendAsync(request);
                return (response.StatusCode, string.Join("", response.Headers.GetValues("X-PoolAI-Detail")));
            }

            var forged = ShardTokens.Issue(new byte[32], "plain", write: true, DateTimeOffset.UtcNow.AddHours(1));
            Assert.AreEqual((System.Net.HttpStatusCode.Forbidden, $"no shard token (header {ShardTokens.Header})"), await Put(shardId, null));
            Assert.AreEqual((System.Net.HttpStatusCode.Forbidden, "the shard token's signature does not match (not issued by this pool)"), await Put(shardId, forged));
            var readOnly = (await volumes.Volume("plain").OpenFileAsync("data.bin")).DataToken!;
            Assert.AreEqual((System.Net.HttpStatusCode.Forbidden, "the shard token allows reads only"), await Put(shardId, readOnly));
            Assert.AreEqual((System.Net.HttpStatusCode.Forbidden, "the shard token is for volume 'plain', not 'secret'"), await Put(ShardIds.Of("secret", Guid.NewGuid(), 0, 0), readOnly));
            Assert.AreEqual((System.Net.HttpStatusCode.BadRequest, "id: '../x' is not a shard id (VOLUME/WRITE/STRIPE.SHARD)"), await Put("../x", readOnly));
            using (var get = new HttpRequestMessage(HttpMethod.Get, $"{endpoint}/shards?store={store}&id={Uri.EscapeDataString(shardId)}"))
                Assert.AreEqual(System.Net.HttpStatusCode.Forbidden, (await http.SendAsync(get)).StatusCode, "a get needs a token too");
            again.SetLength(0);
            await volumes.ReadAsync("plain", "data.bin", again);
            CollectionAssert.AreEqual(content, again.ToArray(), "the refused puts changed nothing");
        }
        finally
        {
            coordinator.Dispose();
            foreach (var miner in miners)
                miner.Dispose();
            Directory.Delete(root, recursive: true);
        }
    }

    /// <summary>
    /// Starts a trusted miner silo and waits until it has announced its chunk store. A process that does not get there
    /// (on a loaded 2-core machine a silo now and then fails to start or join) is replaced once; these tests are about
    /// volumes, not about starting silos, which other tests cover.
    /// </summary>
    private static async Task<PoolProcess> StartTrustedMinerAsync(Dictionary<string, string> environment)
    {
        for (var attempt = 1; ; attempt++)
        {
            var miner = PoolProcess.StartSilo("miner", environment);
            try
            {
                await miner.WaitForLogAsync("Chunk store", TimeSpan.FromSeconds(90));
                return miner;
            }
            catch (Exception e) when (attempt < 2 && e is TimeoutException or InvalidOperationException)
            {
                Console.WriteLine($"a trusted miner did not announce its store; starting another: {e.Message[..Math.Min(e.Message.Length, 4000)]}");
                miner.Dispose();
            }
        }
    }

    /// <summary>The store folder of a shard file (<c>ROOT/VOLUME/WRITE/STRIPE.SHARD</c>).</summary>
    private static string StoreRootOf(string shardFile) => Path.GetDirectoryName(Path.GetDirectoryName(Path.GetDirectoryName(shardFile)!)!)!;

    private static async Task AssertAllReadBackAsync(VolumeClient volumes, Dictionary<string, string> hashes, string when)
    {
        foreach (var (path, hash) in hashes)
        {
            using var sha = SHA256.Create();
            await using var read = await volumes.OpenReadAsync("data", path);
            Assert.AreEqual(hash, Convert.ToHexStringLower(await sha.ComputeHashAsync(read)), $"{path} {when}");
        }
    }

    private static async Task WaitForStoresAsync(IGrainFactory grains, int live, StoreKind kind, int ofKind)
    {
        var deadline = DateTime.UtcNow.AddMinutes(2);
        while (true)
        {
            var stores = await grains.GetGrain<IStoreDirectoryGrain>(IStoreDirectoryGrain.Default).GetStoresAsync();
            if (stores.Count(s => s.Alive) >= live && stores.Count(s => s.Alive && s.Registration.Kind == kind) >= ofKind)
                return;
            Assert.IsTrue(DateTime.UtcNow < deadline, $"stores: {string.Join(", ", stores.Select(s => $"{s.StoreId} {s.Registration.Kind} {(s.Alive ? "alive" : "dead")}"))}");
            await Task.Delay(500);
        }
    }

    /// <summary>Waits until <paramref name="count"/> live trusted stores announce a shard transport; returns their endpoints by store id.</summary>
    private static async Task<Dictionary<string, string>> WaitForTransportsAsync(IGrainFactory grains, int count)
    {
        var deadline = DateTime.UtcNow.AddMinutes(1);
        while (true)
        {
            var stores = await grains.GetGrain<IStoreDirectoryGrain>(IStoreDirectoryGrain.Default).GetStoresAsync();
            var endpoints = stores.Where(s => s.Alive && s.Registration.DataEndpoint is not null).ToDictionary(s => s.StoreId, s => s.Registration.DataEndpoint!);
            if (endpoints.Count >= count)
                return endpoints;
            Assert.IsTrue(DateTime.UtcNow < deadline, $"shard transports: {string.Join(", ", stores.Select(s => $"{s.StoreId} {s.Registration.DataEndpoint ?? "none"}"))}");
            await Task.Delay(250);
        }
    }

    private static async Task<VolumeHealth> WaitForHealthyAsync(IVolumeGrain volume, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var health = await volume.GetHealthAsync();
            if (health.Healthy == health.Stripes && health.Repair is { Running: false })
                return health;
            Assert.IsTrue(DateTime.UtcNow < deadline, $"{health.Healthy}/{health.Stripes} healthy, {health.Degraded} degraded, {health.Lost} lost; rebuild {health.Repair}; {string.Join("; ", health.Repair?.Problems ?? [])}");
            await Task.Delay(1000);
        }
    }

    /// <summary>A read-only stream of <c>length</c> pseudo-random bytes from <c>seed</c>, generated as read (so large files need no memory); optionally slowed until <c>throttle</c> completes.</summary>
    private sealed class SeededStream(long length, int seed, Task? throttle = null) : Stream
    {
        private readonly Random _random = new(seed);
        private long _position;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => length;

        public override long Position { get => _position; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            var n = (int)Math.Min(buffer.Length, length - _position);
            _random.NextBytes(buffer[..n]);
            _position += n;
            return n;
        }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (throttle is { IsCompleted: false })
                await Task.Delay(20, cancellationToken); // the kill must land mid-write, not after it
            return Read(buffer.Span);
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
