using System.IO.Hashing;
using Google.Protobuf;
using PoolAI.Miners.Channel;
using PoolAI.Silo.Miners;
using PoolAI.Volumes;
using PoolAI.Volumes.Stores;

namespace PoolAI.Tests.Miners;

/// <summary>An open miner's side of its shard store: the shard store on its disk, within the storage it offers.</summary>
[TestClass]
public sealed class OpenMinerStorageTests
{
    [TestMethod]
    public async Task AMinerStoresWhatItOffersAndAnswersAPutPastItsOfferWithAnErrorStoringNothing()
    {
        var root = Path.Combine(Path.GetTempPath(), $"poolai-miner-store-{Guid.NewGuid():N}");
        try
        {
            var storage = new OpenMinerStorage(new ShardStore(root, flushToDisk: false), capacityBytes: 1000);
            var write = Guid.NewGuid();
            var first = ShardIds.Of("photos", write, 0, 0);
            var data = new byte[600];
            Random.Shared.NextBytes(data);
            var put = await storage.AnswerAsync(new ShardRequest { RequestId = "a", Op = ShardOp.Put, Shard = first, Data = ByteString.CopyFrom(data) }, CancellationToken.None);
            Assert.AreEqual(ShardStatus.Ok, put.Status, put.Detail);
            Assert.AreEqual("a", put.RequestId);
            Assert.AreEqual(600, put.Bytes);
            CollectionAssert.AreEqual(XxHash128.Hash(data), put.Checksum.ToByteArray());

            var second = ShardIds.Of("photos", write, 0, 1);
            var over = await storage.AnswerAsync(new ShardRequest { RequestId = "b", Op = ShardOp.Put, Shard = second, Data = ByteString.CopyFrom(data) }, CancellationToken.None);
            Assert.AreEqual(ShardStatus.Error, over.Status);
            Assert.AreEqual("storage: this miner offers 1000 bytes and holds or is writing 600; a shard of 600 bytes would pass the offer", over.Detail);
            Assert.IsFalse(File.Exists(Path.Combine(root, "photos", write.ToString("N"), "0.1")));

            var usage = await storage.AnswerAsync(new ShardRequest { RequestId = "c", Op = ShardOp.Usage }, CancellationToken.None);
            Assert.AreEqual((600L, 1L, 400L), (usage.Bytes, usage.Count, usage.FreeBytes), "free is what is left of the offer");

            var get = await storage.AnswerAsync(new ShardRequest { RequestId = "d", Op = ShardOp.Get, Shard = first, Offset = 100, Count = 50 }, CancellationToken.None);
            CollectionAssert.AreEqual(data[100..150], get.Data.ToByteArray());
            var missing = await storage.AnswerAsync(new ShardRequest { RequestId = "e", Op = ShardOp.Get, Shard = second, Count = 50 }, CancellationToken.None);
            Assert.AreEqual(ShardStatus.Missing, missing.Status);
            var bad = await storage.AnswerAsync(new ShardRequest { RequestId = "f", Op = ShardOp.Get, Shard = "../../etc/passwd", Count = 50 }, CancellationToken.None);
            Assert.AreEqual(ShardStatus.Error, bad.Status);
            StringAssert.StartsWith(bad.Detail, "shard: '../../etc/passwd' is not a shard id");
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [TestMethod]
    public void StorageSizesReadAsAMinerWritesThem()
    {
        Assert.AreEqual(10L << 30, StorageSize.Parse("10GiB"));
        Assert.AreEqual(500_000_000L, StorageSize.Parse("500 MB"));
        Assert.AreEqual(1536L << 20, StorageSize.Parse("1.5gib"));
        Assert.AreEqual(1073741824L, StorageSize.Parse("1073741824"));
        Assert.AreEqual(0L, StorageSize.Parse("0"));
        Assert.IsNull(StorageSize.Parse("lots"));
        Assert.IsNull(StorageSize.Parse("-5GiB"));
        Assert.IsNull(StorageSize.Parse("99999999PiB"));
    }
}
