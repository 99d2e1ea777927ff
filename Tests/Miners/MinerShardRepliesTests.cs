using System.IO.Hashing;
using PoolAI.Miners;
using PoolAI.Volumes;

namespace PoolAI.Tests.Miners;

/// <summary>What an open miner's reply to a shard request must keep before its proxy hands it to the caller.</summary>
[TestClass]
public sealed class MinerShardRepliesTests
{
    private static readonly string Shard = ShardIds.Of("photos", Guid.NewGuid(), 0, 1);
    private static readonly byte[] Data = [1, 2, 3, 4, 5];

    private static MinerShardReply Reply(MinerShardStatus status = MinerShardStatus.Ok, byte[]? data = null, byte[]? checksum = null, long bytes = 0, long count = 0, long free = 0, params string[] writes) =>
        new("id", status, data ?? [], checksum ?? [], string.Empty, bytes, count, free, writes);

    private static string? Rule(MinerShardRequest request, MinerShardReply reply) =>
        MinerShardReplies.Check(request, reply, request.Op == MinerShardOp.Put ? XxHash128.Hash(request.Data!) : []) is { } fault ? fault.Rule : null;

    [TestMethod]
    public void APutIsAcknowledgedOnlyWithTheChecksumAndLengthOfTheBytesSentAndAnythingElseIsASuspicion()
    {
        var put = new MinerShardRequest("id", MinerShardOp.Put, Shard, Data);
        Assert.IsNull(Rule(put, Reply(checksum: XxHash128.Hash(Data), bytes: 5)));

        var wrong = MinerShardReplies.Check(put, Reply(checksum: XxHash128.Hash([9, 9]), bytes: 5), XxHash128.Hash(Data));
        Assert.AreEqual($"checksum: is not the XxHash128 of the 5 bytes sent as shard {Shard}", wrong?.Rule);
        Assert.IsTrue(wrong!.Suspicious);
        var shorter = MinerShardReplies.Check(put, Reply(checksum: XxHash128.Hash(Data), bytes: 4), XxHash128.Hash(Data));
        Assert.AreEqual($"bytes: says 4 bytes of shard {Shard} were stored where 5 were sent", shorter?.Rule);
        Assert.IsTrue(shorter!.Suspicious);
        Assert.AreEqual("status: a reply to put must be ok or error; was missing", Rule(put, Reply(MinerShardStatus.Missing)));
        Assert.IsNull(Rule(put, Reply(MinerShardStatus.Error)), "a miner may say it could not store the shard");
    }

    [TestMethod]
    public void AGetHoldsNoMoreBytesThanAskedAndAnAuditAnswerIsThirtyTwoBytes()
    {
        var get = new MinerShardRequest("id", MinerShardOp.Get, Shard, Count: 10);
        Assert.IsNull(Rule(get, Reply(data: new byte[10])));
        Assert.IsNull(Rule(get, Reply(data: new byte[3])), "fewer at the shard's end");
        Assert.AreEqual("data: 11 bytes where at most 10 were asked for", Rule(get, Reply(data: new byte[11])));
        Assert.IsNull(Rule(get, Reply(MinerShardStatus.Corrupt)));
        Assert.AreEqual("data: must be empty in a reply to get with status missing; it had 2 bytes", Rule(get, Reply(MinerShardStatus.Missing, data: new byte[2])));
        Assert.AreEqual("status: must be ok, missing, corrupt or error; was 7", Rule(get, Reply((MinerShardStatus)7)));

        var audit = new MinerShardRequest("id", MinerShardOp.Audit, Shard, Count: 4096, Nonce: new byte[16]);
        Assert.IsNull(Rule(audit, Reply(data: new byte[32])));
        Assert.AreEqual("data: an audit answer is 32 bytes (SHA-256); it had 31", Rule(audit, Reply(data: new byte[31])));
    }

    [TestMethod]
    public void CountsFitTheRequestAndListedWritesAreWriteIds()
    {
        var delete = new MinerShardRequest("id", MinerShardOp.DeleteShards, Shards: [Shard, Shard]);
        Assert.IsNull(Rule(delete, Reply(count: 2)));
        Assert.AreEqual("count: must be between 0 and the 2 shards named; was 3", Rule(delete, Reply(count: 3)));
        Assert.AreEqual("data: must be empty in a reply to delete_shards with status ok; it had 1 bytes", Rule(delete, Reply(data: [0], count: 1)));
        Assert.AreEqual("count: must be at least 0; was -1", Rule(new MinerShardRequest("id", MinerShardOp.DeleteWrite, Volume: "photos", Write: Guid.NewGuid()), Reply(count: -1)));

        var list = new MinerShardRequest("id", MinerShardOp.ListWrites, Volume: "photos");
        var write = Guid.NewGuid().ToString("N");
        Assert.IsNull(Rule(list, Reply(writes: [write])));
        Assert.AreEqual("writes: '../etc' is not a write id (32 hex digits)", Rule(list, Reply(writes: [write, "../etc"])));
        Assert.AreEqual($"writes: write {write} is listed twice", Rule(list, Reply(writes: [write, write])));

        var usage = new MinerShardRequest("id", MinerShardOp.Usage);
        Assert.IsNull(Rule(usage, Reply(bytes: 10, count: 1, free: 5)));
        Assert.AreEqual("bytes, count and free_bytes: must be at least 0; were 10, -1 and 5", Rule(usage, Reply(bytes: 10, count: -1, free: 5)));
    }
}
