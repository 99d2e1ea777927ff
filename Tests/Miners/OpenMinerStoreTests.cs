using System.Diagnostics;
using System.IO.Hashing;
using System.Security.Cryptography;
using Google.Protobuf;
using PoolAI.Benchmarks.Failover;
using PoolAI.Miners;
using PoolAI.Miners.Channel;
using PoolAI.Volumes;

namespace PoolAI.Tests.Miners;

/// <summary>
/// Open miners as shard stores, in real processes: a gateway hosting a coordinator-only pool, an open miner started
/// with <c>--storage</c> that keeps shards on its own disk, and miners written by hand that lie about theirs. The pool
/// reaches every store through <see cref="ShardStores.Of"/>; what a miner answers is checked before anyone relies on it.
/// </summary>
[TestClass]
public sealed class OpenMinerStoreTests
{
    private const long Offered = 64L << 20;
    private static OpenMinerPool _pool = null!;
    private static string _keeper = null!;
    private static string _home = null!;

    [ClassInitialize]
    public static async Task StartAsync(TestContext context)
    {
        _pool = await OpenMinerPool.StartAsync();
        var (id, key) = await _pool.KeyAsync("miner", "keeper");
        _keeper = OpenMiners.WorkerOf(id);
        _home = Path.Combine(Path.GetTempPath(), $"poolai-keeper-{Guid.NewGuid():N}");
        await _pool.StartMinerAsync(key, new Dictionary<string, string> { ["POOLAI_HOME"] = _home }, "--storage", "64MiB");
    }

    [ClassCleanup]
    public static async Task StopAsync()
    {
        if (_pool is not null)
            await _pool.DisposeAsync();
        if (_home is not null && Directory.Exists(_home))
            Directory.Delete(_home, recursive: true);
    }

    [TestMethod]
    public async Task AnOpenMinerWithStorageIsAnOpenStoreThatKeepsShardsOnItsOwnDiskBehindTheChannel()
    {
        var view = await StoreAsync(_keeper, alive: true);
        Assert.AreEqual(StoreKind.Open, view.Registration.Kind);
        Assert.AreEqual(OpenMiners.SiloOf(_keeper), view.Registration.Host);
        Assert.IsNull(view.Registration.Silo, "an open miner is no silo of the cluster");
        Assert.AreEqual(Offered, view.Registration.CapacityBytes, "--storage 64MiB");

        var store = ShardStores.Of(_pool.Grains, _keeper);
        Assert.IsInstanceOfType<IOpenMinerGrain>(store, "an open miner's store is its proxy");
        var write = Guid.NewGuid();
        var shard = ShardIds.Of("keeper", write, 0, 0);
        var data = RandomNumberGenerator.GetBytes(100_000);
        var receipt = await store.PutShardAsync(shard, data);
        Assert.AreEqual(100_000L, receipt.Bytes);
        CollectionAssert.AreEqual(XxHash128.Hash(data), receipt.Checksum);
        var file = Path.Combine(_home, "chunks", "keeper", write.ToString("N"), "0.0");
        Assert.IsTrue(File.Exists(file), $"the shard is a file under the miner's home: {file}");
        Assert.AreEqual(32 + 100_000L, new FileInfo(file).Length, "a 32-byte header, then the shard");

        var whole = await store.GetShardAsync(shard, 0, int.MaxValue);
        Assert.AreEqual(ShardReadStatus.Ok, whole.Status);
        CollectionAssert.AreEqual(data, whole.Data);
        CollectionAssert.AreEqual(data[1000..1500], (await store.GetShardAsync(shard, 1000, 500)).Data);
        var nonce = RandomNumberGenerator.GetBytes(16);
        CollectionAssert.AreEqual(ShardAudits.Answer(nonce, data.AsSpan(4096, 4096)), (await store.AuditShardAsync(shard, nonce, 4096, 4096)).Data);
        CollectionAssert.AreEqual(new[] { write }, (await store.ListWritesAsync("keeper")).ToArray());
        var usage = await store.GetUsageAsync();
        Assert.AreEqual((100_000L, 1L), (usage.Bytes, usage.Shards));
        Assert.IsTrue(usage.FreeBytes is > 0 and <= Offered - 100_000, $"free {usage.FreeBytes} is within what the miner offers");

        // A volume's writer and reader: the shard leaves the cluster encrypted, and comes back checked and decrypted.
        var io = new StripeIo(_pool.Grains, "keeper", new VolumeLayout(2, 1, false), RandomNumberGenerator.GetBytes(32));
        var second = Guid.NewGuid();
        var plaintext = RandomNumberGenerator.GetBytes(50_000);
        var record = await io.PutShardAsync(view.Registration, second, 0, 1, plaintext, encryptAll: false);
        Assert.IsTrue(record.Encrypted, "a shard bound for an open miner is always encrypted");
        var onDisk = await File.ReadAllBytesAsync(Path.Combine(_home, "chunks", "keeper", second.ToString("N"), "0.1"));
        Assert.AreEqual(32 + plaintext.Length + ShardCrypto.OverheadBytes, onDisk.Length);
        Assert.IsTrue(onDisk.AsSpan().IndexOf(plaintext.AsSpan(0, 64)) < 0, "the miner's disk never holds plaintext");
        var damage = new List<ShardDamage>();
        CollectionAssert.AreEqual(plaintext, await io.FetchShardAsync(second, new StripeRecord(0, 100_000, plaintext.Length, [record, record, record]), 1, damage));
        Assert.AreEqual(0, damage.Count, string.Join("; ", damage));
        var ticket = record.Audits[0];
        CollectionAssert.AreEqual(ticket.Answer, (await store.AuditShardAsync(ShardIds.Of("keeper", second, 0, 1), ticket.Nonce, ticket.Offset, ticket.Count)).Data,
            "the miner answers the writer's audit ticket");

        Assert.AreEqual(1, await store.DeleteShardsAsync([shard, ShardIds.Of("keeper", write, 0, 7)]), "missing shards are skipped");
        Assert.IsFalse(File.Exists(file));
        Assert.AreEqual(ShardReadStatus.Missing, (await store.GetShardAsync(shard, 0, 10)).Status);
        Assert.AreEqual(1, await store.DeleteWriteAsync("keeper", second));
        Assert.AreEqual(0, await store.DeleteWriteAsync("keeper", write), "its folder only was left");
        Assert.AreEqual(0, (await store.ListWritesAsync("keeper")).Count);
    }

    [TestMethod]
    public async Task AMinerThatLiesAboutItsShardsIsCaughtAndAPutAcknowledgedWithAnotherChecksumIsASuspicion()
    {
        var (id, key) = await _pool.KeyAsync("miner", "liar");
        var worker = OpenMiners.WorkerOf(id);
        await using var liar = await RawMiner.ConnectAsync(_pool, key, StorageRegistration());
        Assert.AreEqual(worker, liar.Registered?.Worker);
        var registration = (await StoreAsync(worker, alive: true)).Registration;
        var store = ShardStores.Of(_pool.Grains, worker);
        var io = new StripeIo(_pool.Grains, "liar", new VolumeLayout(2, 1, false), RandomNumberGenerator.GetBytes(32));
        var write = Guid.NewGuid();
        var shard = ShardIds.Of("liar", write, 0, 0);

        // 1. An honest put: the miner keeps the (encrypted) bytes it was sent and acknowledges them.
        var putting = io.PutShardAsync(registration, write, 0, 0, RandomNumberGenerator.GetBytes(10_000), encryptAll: false);
        var put = await RequestAsync(liar, ShardOp.Put);
        var kept = put.Data.ToByteArray();
        await liar.SendAsync(Reply(put, r =>
        {
            r.Bytes = kept.Length;
            r.Checksum = ByteString.CopyFrom(XxHash128.Hash(kept));
        }));
        var record = await putting;
        var stripe = new StripeRecord(0, 20_000, 10_000, [record, record, record]);

        // 2. A get answered with other bytes: the proxy hands over what the miner sent, and the reader's checksum catches it.
        var tampered = (byte[])kept.Clone();
        tampered[^1] ^= 0xff;
        var getting = store.GetShardAsync(shard, 0, int.MaxValue);
        await liar.SendAsync(Reply(await RequestAsync(liar, ShardOp.Get), r => r.Data = ByteString.CopyFrom(tampered)));
        CollectionAssert.AreEqual(tampered, (await getting).Data);
        var damage = new List<ShardDamage>();
        var fetching = io.FetchShardAsync(write, stripe, 0, damage);
        await liar.SendAsync(Reply(await RequestAsync(liar, ShardOp.Get), r => r.Data = ByteString.CopyFrom(tampered)));
        Assert.IsNull(await fetching, "a reader takes no shard that fails the writer's checksum");
        Assert.AreEqual(ShardReadStatus.Corrupt, damage.Single().Status);
        Assert.AreEqual("bytes differ from the checksum the writer recorded", damage.Single().Detail);

        // 3. More bytes than asked for: refused and counted; the call fails.
        var small = store.GetShardAsync(shard, 0, 10);
        var asked = await RequestAsync(liar, ShardOp.Get);
        await liar.SendAsync(Reply(asked, r => r.Data = ByteString.CopyFrom(new byte[11])));
        StringAssert.Contains(await RefusalAsync(liar, asked.RequestId), "data: 11 bytes where at most 10 were asked for");
        StringAssert.Contains((await FailureAsync(small)).Message, "data: 11 bytes where at most 10 were asked for");

        // 4. An audit answered with a made-up hash: returned as sent, and it is not the answer of the writer's ticket,
        // which the bytes the miner holds would have given.
        var ticket = record.Audits[0];
        var auditing = store.AuditShardAsync(shard, ticket.Nonce, ticket.Offset, ticket.Count);
        await liar.SendAsync(Reply(await RequestAsync(liar, ShardOp.Audit), r => r.Data = ByteString.CopyFrom(RandomNumberGenerator.GetBytes(32))));
        var answer = await auditing;
        Assert.AreEqual(ShardReadStatus.Ok, answer.Status);
        Assert.IsFalse(answer.Data.AsSpan().SequenceEqual(ticket.Answer), "a made-up answer fails the audit");
        CollectionAssert.AreEqual(ticket.Answer, ShardAudits.Answer(ticket.Nonce, kept.AsSpan((int)ticket.Offset, ticket.Count)));

        // 5. A put acknowledged with the checksum of other bytes: the put fails and the miner is suspected.
        var other = ShardIds.Of("liar", write, 0, 1);
        var lying = store.PutShardAsync(other, [1, 2, 3]);
        var request = await RequestAsync(liar, ShardOp.Put);
        await liar.SendAsync(Reply(request, r =>
        {
            r.Bytes = 3;
            r.Checksum = ByteString.CopyFrom(XxHash128.Hash([3, 2, 1]));
        }));
        var rule = $"checksum: is not the XxHash128 of the 3 bytes sent as shard {other}";
        StringAssert.Contains((await FailureAsync(lying)).Message, rule);
        StringAssert.Contains(await RefusalAsync(liar, request.RequestId), rule);
        var suspicions = (await _pool.Pool.GetRewardsAsync(worker)).Suspicions;
        Assert.AreEqual(1, suspicions.Count, string.Join("; ", suspicions.Select(s => s.Reason)));
        StringAssert.Contains(suspicions[0].Reason, rule);

        // 6. A reply to a request never sent: refused and counted.
        const string forged = "0123456789abcdef0123456789abcdef";
        await liar.SendAsync(new MinerMessage { ShardReply = new ShardReply { RequestId = forged, Data = ByteString.CopyFrom(new byte[4]) } });
        StringAssert.Contains(await RefusalAsync(liar, forged), $"a shard reply for request '{forged}', which was never sent to this miner");
        var proxy = await _pool.Grains.GetGrain<IOpenMinerGrain>(worker).DescribeAsync();
        Assert.AreEqual(3, proxy.Refused.Count, string.Join("; ", proxy.Refused));
        Assert.AreEqual(0, proxy.ShardRequests, "no call is left waiting");
        Assert.AreEqual(1L << 20, proxy.StorageBytes);
        Assert.IsNull(liar.Ended, "three refusals do not close the connection");
    }

    [TestMethod]
    public async Task AMinerThatDisconnectsIsADeadStoreWithinSecondsAndItsWaitingCallsFailAtOnce()
    {
        var (id, key) = await _pool.KeyAsync("miner", "leaver");
        var worker = OpenMiners.WorkerOf(id);
        var leaver = await RawMiner.ConnectAsync(_pool, key, StorageRegistration());
        await StoreAsync(worker, alive: true);
        var store = ShardStores.Of(_pool.Grains, worker);
        var shard = ShardIds.Of("leaver", Guid.NewGuid(), 0, 0);
        var waiting = store.GetShardAsync(shard, 0, 100);
        Assert.IsNotNull(await leaver.NextAsync(m => m.BodyCase == PoolMessage.BodyOneofCase.ShardRequest, TimeSpan.FromSeconds(30)), "the request reached the miner");

        var started = Stopwatch.StartNew();
        await leaver.DisposeAsync();
        var dead = await StoreAsync(worker, alive: false, TimeSpan.FromSeconds(10));
        Assert.IsTrue(started.Elapsed < TimeSpan.FromSeconds(10), $"dead after {started.Elapsed.TotalSeconds:0.0} s");
        StringAssert.Contains(dead.Reason, "connection ended");
        Assert.IsNotNull(dead.DeadSince);
        StringAssert.Contains((await FailureAsync(waiting)).Message, $"store '{worker}' lost its connection");
        Assert.IsTrue(started.Elapsed < TimeSpan.FromSeconds(10), "the waiting call failed with the connection, not at its timeout");
        StringAssert.Contains((await FailureAsync(store.GetShardAsync(shard, 0, 100))).Message, $"store '{worker}' is not connected");
    }

    /// <summary>A miner by hand that offers 1 MiB (and a GPU no job asks for).</summary>
    private static Register StorageRegistration()
    {
        var register = RawMiner.Registration(device: "cuda", slots: 1, memoryMb: 1);
        register.StorageBytes = 1 << 20;
        return register;
    }

    /// <summary>The directory's view of <paramref name="store"/> once it is there and alive (or dead), waiting up to <paramref name="timeout"/> (15 s).</summary>
    private static async Task<StoreView> StoreAsync(string store, bool alive, TimeSpan? timeout = null)
    {
        var directory = _pool.Grains.GetGrain<IStoreDirectoryGrain>(IStoreDirectoryGrain.Default);
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var stores = await directory.GetStoresAsync();
            if (stores.FirstOrDefault(s => s.StoreId == store) is { } view && view.Alive == alive)
                return view;
            if (deadline.Elapsed > (timeout ?? TimeSpan.FromSeconds(15)))
                Assert.Fail($"store {store} is not {(alive ? "alive" : "dead")} in the directory: {string.Join("; ", stores)}");
            await Task.Delay(100);
        }
    }

    private static async Task<ShardRequest> RequestAsync(RawMiner miner, ShardOp op)
    {
        var message = await miner.NextAsync(m => m.BodyCase == PoolMessage.BodyOneofCase.ShardRequest && m.ShardRequest.Op == op, TimeSpan.FromSeconds(30));
        Assert.IsNotNull(message, $"a {op} request must reach the miner");
        return message.ShardRequest;
    }

    private static MinerMessage Reply(ShardRequest request, Action<ShardReply> fill)
    {
        var reply = new ShardReply { RequestId = request.RequestId, Status = ShardStatus.Ok };
        fill(reply);
        return new MinerMessage { ShardReply = reply };
    }

    private static async Task<string> RefusalAsync(RawMiner miner, string request)
    {
        var refused = await miner.NextAsync(m => m.BodyCase == PoolMessage.BodyOneofCase.Refused && m.Refused.ShardRequest == request, TimeSpan.FromSeconds(30));
        Assert.IsNotNull(refused, $"the reply to shard request {request} must be refused");
        return refused.Refused.Reason;
    }

    private static async Task<Exception> FailureAsync(Task call)
    {
        try
        {
            await call;
        }
        catch (Exception e)
        {
            return e;
        }

        Assert.Fail("the call must fail");
        return null!;
    }
}
