using PoolAI.Artifacts;
using PoolAI.Jobs;

namespace PoolAI.Tests.Storage;

/// <summary>The artifact store: content-addressed chunks, checked before they are readable, kept while a job holds them.</summary>
[TestClass]
public sealed class ArtifactStoreTests
{
    [TestMethod]
    public async Task ContentOfSeveralChunksReadsBackAndTheSameBytesAreOneArtifact()
    {
        var grains = (await SharedPool.ClusterAsync()).Client;
        var content = new byte[(2 * ArtifactLimits.ChunkSize) + 12345];
        new Random(11).NextBytes(content);

        var stored = await ArtifactTransfer.UploadAsync(grains, content, "application/octet-stream", "weights.bin");

        Assert.AreEqual(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(content)), stored.Id);
        Assert.AreEqual(content.Length, stored.Size);
        CollectionAssert.AreEqual(content, await ArtifactTransfer.ReadAllAsync(grains, stored));
        var again = await ArtifactTransfer.UploadAsync(grains, new MemoryStream(content), "application/x-other", "copy.bin");
        Assert.AreEqual((stored.Id, stored.Size, "copy.bin"), (again.Id, again.Size, again.Name), "the same bytes are the same artifact under the name this upload gave");
        Assert.AreEqual(3, ArtifactTransfer.ChunkCount(content.Length));
        var empty = await ArtifactTransfer.UploadAsync(grains, ReadOnlyMemory<byte>.Empty, "text/plain", "empty.txt");
        Assert.AreEqual(0, (await ArtifactTransfer.ReadAllAsync(grains, empty)).Length);
    }

    [TestMethod]
    public async Task ContentThatDoesNotMatchItsHashIsRefusedAndDiscarded()
    {
        var grains = (await SharedPool.ClusterAsync()).Client;
        var claimed = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData("what was promised"u8));
        var grain = grains.GetGrain<IArtifactGrain>(claimed);
        await grain.WriteChunkAsync(0, "something else"u8.ToArray());

        var refused = await Assert.ThrowsExactlyAsync<ArgumentException>(() => grain.CompleteAsync(new ArtifactRef(claimed, 14, "text/plain", "x.txt")));
        StringAssert.Contains(refused.Message, "the content does not match artifact");
        Assert.IsNull(await grain.GetAsync());
        await Assert.ThrowsExactlyAsync<KeyNotFoundException>(() => grain.ReadChunkAsync(0));
        await Assert.ThrowsExactlyAsync<ArgumentException>(() => ArtifactTransfer.UploadAsync(grains, "x"u8.ToArray(), "text/plain", "../escape.txt"));
        await Assert.ThrowsExactlyAsync<ArgumentException>(() => ArtifactTransfer.UploadAsync(grains, "x"u8.ToArray(), "plain", "x.txt"));
    }

    [TestMethod]
    public async Task AnArtifactIsDeletedOnceTheLastHoldHasEnded()
    {
        var grains = (await SharedPool.ClusterAsync()).Client;
        var artifact = await ArtifactTransfer.UploadAsync(grains, System.Text.Encoding.UTF8.GetBytes($"held {Guid.NewGuid()}"), "text/plain", "held.txt");
        var grain = grains.GetGrain<IArtifactGrain>(artifact.Id);
        var index = grains.GetGrain<IArtifactIndexGrain>(IArtifactIndexGrain.Key);
        var (running, finished) = (Guid.NewGuid(), Guid.NewGuid());
        var later = DateTimeOffset.UtcNow.AddHours(2);
        Assert.IsTrue(await grain.HoldAsync(running, later));
        Assert.IsTrue(await grain.HoldAsync(finished, DateTimeOffset.UtcNow.AddSeconds(-1)));
        Assert.AreEqual(later, (await grain.DescribeAsync())!.RetainUntil);

        Assert.AreEqual(later, await grain.SweepAsync(), "a hold that has not ended keeps it");
        Assert.IsFalse((await grain.DescribeAsync())!.Holds.ContainsKey(finished), "the ended hold is dropped");
        await grain.HoldAsync(running, DateTimeOffset.UtcNow.AddSeconds(-1));
        // The artifact tells the index its new time one-way: sweep until the index has heard it.
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (await grain.GetAsync() is not null)
        {
            Assert.IsTrue(DateTime.UtcNow < deadline, "the index never swept the artifact");
            await index.SweepAsync();
        }

        Assert.IsNull(await grain.GetAsync());
        await Assert.ThrowsExactlyAsync<KeyNotFoundException>(() => ArtifactTransfer.ReadAllAsync(grains, artifact));
        Assert.IsFalse(await grain.HoldAsync(running, later), "a deleted artifact cannot be held");
    }

    [TestMethod]
    public async Task AFinishedJobHoldsItsArtifactsForTheRetentionFromItsEnd()
    {
        var pool = await SharedPool.ClientAsync();
        var probe = await pool.RunSystemTaskAsync(SystemTasks.Probe, new Dictionary<string, string> { ["tokens"] = "2" });
        var report = probe.Artifacts!.Single();
        var grain = (await SharedPool.ClusterAsync()).Client.GetGrain<IArtifactGrain>(report.Id);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        ArtifactInfo? info;
        while ((info = await grain.DescribeAsync())!.Holds.GetValueOrDefault(probe.Id) == DateTimeOffset.MaxValue)
        {
            Assert.IsTrue(DateTime.UtcNow < deadline, "the job's settlement did not set its hold");
            await Task.Delay(50);
        }

        Assert.AreEqual(probe.UpdatedAt + new JobOptions().ArtifactRetention, info.Holds[probe.Id]);
    }
}
