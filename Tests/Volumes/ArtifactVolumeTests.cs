using System.Globalization;
using System.Security.Cryptography;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Orleans.Storage;
using PoolAI.Artifacts;
using PoolAI.Jobs;
using PoolAI.Volumes;

namespace PoolAI.Tests.Volumes;

/// <summary>
/// Job artifacts on a pool of a coordinator and six miners: uploaded through the artifact API, their content is file
/// <c>artifacts/&lt;sha256&gt;</c> of volume <c>jobs</c> (created by the pool as <c>rs:4+2</c>), read back through the
/// artifact API in the same chunks, stored once, and deleted with the artifact.
/// </summary>
[TestClass]
[DoNotParallelize]
public sealed class ArtifactVolumeTests
{
    private const string Jobs = "jobs";
    private static VolumeCluster _pool = null!;

    private static IGrainFactory Grains => _pool.Cluster.Client;

    [ClassInitialize]
    public static async Task Start(TestContext context) => _pool = await VolumeCluster.StartAsync(miners: 6);

    [ClassCleanup]
    public static async Task Stop() => await _pool.DisposeAsync();

    [TestMethod]
    public async Task AnUploadedArtifactIsFileArtifactsShaOfVolumeJobsLaidOutRs4Plus2AndReadsBackInTheSameChunks()
    {
        var content = VolumeCluster.Bytes((9 * ArtifactLimits.ChunkSize) + 12345, 1);
        var sha256 = Convert.ToHexStringLower(SHA256.HashData(content));

        var artifact = await ArtifactTransfer.UploadAsync(Grains, content, "application/octet-stream", "weights.bin");

        Assert.AreEqual(new ArtifactRef(sha256, content.Length, "application/octet-stream", "weights.bin"), artifact);
        var volume = await _pool.Volumes.Volume(Jobs).DescribeAsync();
        Assert.AreEqual("rs:4+2", volume.Layout.ToString(), "six live stores: the pool chose rs:4+2");
        var listed = (await _pool.Volumes.Volume(Jobs).ListAsync(new ListRequest($"artifacts/{sha256}"))).Files.Single();
        Assert.AreEqual(($"artifacts/{sha256}", (long)content.Length, sha256), (listed.Path, listed.Length, listed.Sha256));
        Assert.AreEqual(Jobs, (await Grains.GetGrain<IArtifactGrain>(sha256).DescribeAsync())!.Volume);
        CollectionAssert.AreEqual(content, await _pool.GetAsync(Jobs, $"artifacts/{sha256}"), "the volume file is the content");

        CollectionAssert.AreEqual(content, await ArtifactTransfer.ReadAllAsync(Grains, artifact));
        var grain = Grains.GetGrain<IArtifactGrain>(sha256);
        var lengths = new List<int>();
        foreach (var index in new[] { 9, 0, 1, 5, 6, 3 })
        {
            var chunk = await grain.ReadChunkAsync(index);
            var offset = index * ArtifactLimits.ChunkSize;
            CollectionAssert.AreEqual(content.AsSpan(offset, Math.Min(ArtifactLimits.ChunkSize, content.Length - offset)).ToArray(), chunk, $"chunk {index}");
            lengths.Add(chunk.Length);
        }

        CollectionAssert.AreEqual(new[] { 12345, ArtifactLimits.ChunkSize, ArtifactLimits.ChunkSize, ArtifactLimits.ChunkSize, ArtifactLimits.ChunkSize, ArtifactLimits.ChunkSize }, lengths);
        await Assert.ThrowsExactlyAsync<ArgumentOutOfRangeException>(() => grain.ReadChunkAsync(10));
        var empty = await ArtifactTransfer.UploadAsync(Grains, ReadOnlyMemory<byte>.Empty, "text/plain", "empty.txt");
        Assert.AreEqual(Jobs, (await Grains.GetGrain<IArtifactGrain>(empty.Id).DescribeAsync())!.Volume);
        Assert.AreEqual(0, (await ArtifactTransfer.ReadAllAsync(Grains, empty)).Length);
    }

    [TestMethod]
    public async Task TheSameContentUploadedTwiceOrTwiceAtOnceIsOneFile()
    {
        var content = VolumeCluster.Bytes((3 * ArtifactLimits.ChunkSize) + 7, 2);
        var sha256 = Convert.ToHexStringLower(SHA256.HashData(content));

        var together = await Task.WhenAll(
            ArtifactTransfer.UploadAsync(Grains, content, "application/octet-stream", "a.bin"),
            ArtifactTransfer.UploadAsync(Grains, new MemoryStream(content), "application/octet-stream", "b.bin"));
        var again = await ArtifactTransfer.UploadAsync(Grains, content, "application/x-other", "c.bin");

        Assert.AreEqual((sha256, sha256, sha256), (together[0].Id, together[1].Id, again.Id));
        Assert.AreEqual("c.bin", again.Name, "the same bytes are the same artifact under the name this upload gave");
        var files = (await _pool.Volumes.Volume(Jobs).ListAsync(new ListRequest($"artifacts/{sha256}"))).Files;
        Assert.AreEqual(1, files.Count);
        Assert.AreEqual(sha256, files[0].Sha256);
        CollectionAssert.AreEqual(content, await ArtifactTransfer.ReadAllAsync(Grains, again));
    }

    [TestMethod]
    public async Task TheSweepAfterTheRetentionDeletesTheFileAndItsShards()
    {
        var content = VolumeCluster.Bytes((5 * ArtifactLimits.ChunkSize) + 3, 3);
        var artifact = await ArtifactTransfer.UploadAsync(Grains, content, "application/octet-stream", "checkpoint.bin");
        var path = ArtifactVolume.PathOf(artifact.Id);
        var layout = await _pool.Volumes.Volume(Jobs).OpenFileAsync(path);
        var shards = layout.Extents.SelectMany(e => e.Stripes.SelectMany(s => s.Shards.Select((h, i) =>
            _pool.StoreIn(int.Parse(h.Store["store-".Length..], CultureInfo.InvariantCulture)).PathOf(ShardIds.Of(Jobs, e.Write, s.Index, i))))).ToList();
        Assert.AreEqual(2 * 6, shards.Count, "two stripes of six shards");
        Assert.IsTrue(shards.All(File.Exists));
        var grain = Grains.GetGrain<IArtifactGrain>(artifact.Id);
        Assert.IsTrue(await grain.HoldAsync(Guid.NewGuid(), DateTimeOffset.UtcNow.AddSeconds(-1)), "a job held it until a moment ago");

        // The artifact tells the index its new time one-way: sweep until the index has heard it.
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (await grain.GetAsync() is not null)
        {
            Assert.IsTrue(DateTime.UtcNow < deadline, "the index never swept the artifact");
            await Grains.GetGrain<IArtifactIndexGrain>(IArtifactIndexGrain.Key).SweepAsync();
        }

        Assert.AreEqual(0, (await _pool.Volumes.Volume(Jobs).ListAsync(new ListRequest(path))).Files.Count);
        await Assert.ThrowsExactlyAsync<VolumeNotFoundException>(() => _pool.Volumes.Volume(Jobs).OpenFileAsync(path));
        await Assert.ThrowsExactlyAsync<KeyNotFoundException>(() => ArtifactTransfer.ReadAllAsync(Grains, artifact));
        while (shards.Any(File.Exists))
        {
            Assert.IsTrue(DateTime.UtcNow < deadline, $"{shards.Count(File.Exists)} shards of the deleted file are still on their stores");
            await Task.Delay(100);
        }
    }

    [TestMethod]
    public async Task ContentThatDoesNotMatchItsHashOrComesOutOfOrderIsRefusedAndLeavesNoFile()
    {
        var claimed = Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes($"what was promised {Guid.NewGuid()}")));
        var grain = Grains.GetGrain<IArtifactGrain>(claimed);
        await grain.WriteChunkAsync(0, "something else"u8.ToArray());

        var refused = await Assert.ThrowsExactlyAsync<ArgumentException>(() => grain.CompleteAsync(new ArtifactRef(claimed, 14, "text/plain", "x.txt")));

        Assert.AreEqual($"the content does not match artifact {claimed} of 14 bytes: the chunks hold 14 bytes with SHA-256 {Convert.ToHexStringLower(SHA256.HashData("something else"u8))}; it was discarded, upload it again (Parameter 'artifact')", refused.Message);
        Assert.IsNull(await grain.GetAsync());
        Assert.AreEqual(0, (await _pool.Volumes.Volume(Jobs).ListAsync(new ListRequest(ArtifactVolume.PathOf(claimed)))).Files.Count);

        await grain.WriteChunkAsync(0, new byte[ArtifactLimits.ChunkSize]);
        var skipped = await Assert.ThrowsExactlyAsync<ArgumentException>(() => grain.WriteChunkAsync(2, [1]));
        Assert.AreEqual("index must be 1, the next chunk: content stored in volume 'jobs' is written in order; was 2 (Parameter 'index')", skipped.Message);
        await grain.WriteChunkAsync(0, new byte[ArtifactLimits.ChunkSize]); // a retried chunk is skipped
        await Assert.ThrowsExactlyAsync<ArgumentException>(() => grain.CompleteAsync(new ArtifactRef(claimed, ArtifactLimits.ChunkSize, "text/plain", "x.txt")));
        Assert.AreEqual(0, (await _pool.Volumes.Volume(Jobs).ListAsync(new ListRequest(ArtifactVolume.PathOf(claimed)))).Files.Count);
    }

    [TestMethod]
    public async Task AnArtifactStoredBeforeVolumesReadsFromItsChunks()
    {
        // The state as stored before artifacts had a volume field, with its content in a chunk record.
        var content = System.Text.Encoding.UTF8.GetBytes($"stored as chunks {Guid.NewGuid()}");
        var artifact = new ArtifactRef(Convert.ToHexStringLower(SHA256.HashData(content)), content.Length, "text/plain", "old.txt");
        var grainId = Grains.GetGrain<IArtifactGrain>(artifact.Id).GetGrainId();
        var storage = _pool.Cluster.Silos[0].ServiceProvider.GetRequiredKeyedService<IGrainStorage>(PoolKeys.Storage);
        var stored = DateTimeOffset.UtcNow;
        await storage.WriteStateAsync("artifact", grainId, new GrainState<ArtifactStateBeforeVolumes>(new ArtifactStateBeforeVolumes { Artifact = artifact, StoredAt = stored, ChunksWritten = 1 }));
        await storage.WriteStateAsync($"{ArtifactGrain.ChunkPrefix}-0", grainId, new GrainState<ArtifactChunk>(new ArtifactChunk { Data = content }));

        var info = await Grains.GetGrain<IArtifactGrain>(artifact.Id).DescribeAsync();

        Assert.AreEqual((artifact, stored, (string?)null), (info!.Artifact, info.StoredAt, info.Volume));
        CollectionAssert.AreEqual(content, await ArtifactTransfer.ReadAllAsync(Grains, artifact));
        Assert.AreEqual(0, (await _pool.Volumes.Volume(Jobs).ListAsync(new ListRequest(ArtifactVolume.PathOf(artifact.Id)))).Files.Count);
    }

    [TestMethod]
    public async Task CoordinatorsCreatingTheVolumeAtOnceEndWithOneVolume()
    {
        var name = $"race-{Guid.NewGuid():N}"[..20];
        var creators = Enumerable.Range(0, 8)
            .Select(_ => new ArtifactVolume(Grains, Options.Create(new ArtifactOptions { Volume = name }), NullLogger<ArtifactVolume>.Instance))
            .ToList();

        var created = await Task.WhenAll(creators.Select(c => c.TryCreateAsync()));

        CollectionAssert.AreEqual(Enumerable.Repeat(true, 8).ToArray(), created);
        var volumes = await _pool.Volumes.ListVolumesAsync();
        Assert.AreEqual(1, volumes.Count(v => v.Name == name));
        Assert.AreEqual("rs:4+2", volumes.Single(v => v.Name == name).Layout.ToString());
    }
}

/// <summary>The artifact state as stored before artifact content could be in a volume (ids 0–3 of <see cref="ArtifactState"/>).</summary>
[GenerateSerializer, Alias("poolai.tests.ArtifactStateBeforeVolumes")]
public sealed class ArtifactStateBeforeVolumes
{
    [Id(0)] public ArtifactRef? Artifact { get; set; }

    [Id(1)] public DateTimeOffset StoredAt { get; set; }

    [Id(2)] public Dictionary<Guid, DateTimeOffset> Holds { get; set; } = [];

    [Id(3)] public int ChunksWritten { get; set; }
}

/// <summary>A pool whose only silo is a coordinator (no store): artifacts stay in grain storage; once a miner's store joins, new ones go to the volume and old ones still read.</summary>
[TestClass]
[DoNotParallelize]
public sealed class ArtifactWithoutStoresTests
{
    [TestMethod]
    public async Task WithNoLiveStoreAnArtifactIsStoredAsChunksAndStaysReadableWhenNewOnesGoToTheVolume()
    {
        await using var pool = await VolumeCluster.StartAsync(miners: 0);
        var grains = pool.Cluster.Client;
        var content = VolumeCluster.Bytes((2 * ArtifactLimits.ChunkSize) + 99, 4);

        var artifact = await ArtifactTransfer.UploadAsync(grains, content, "application/octet-stream", "report.bin");

        Assert.IsNull((await grains.GetGrain<IArtifactGrain>(artifact.Id).DescribeAsync())!.Volume);
        Assert.AreEqual(0, (await pool.Volumes.ListVolumesAsync()).Count, "no store: no volume was created");
        CollectionAssert.AreEqual(content, await ArtifactTransfer.ReadAllAsync(grains, artifact));

        await pool.Cluster.StartAdditionalSiloAsync();
        await pool.WaitForStoresAsync(1);
        var later = await ArtifactTransfer.UploadAsync(grains, VolumeCluster.Bytes(1000, 5), "application/octet-stream", "later.bin");

        Assert.AreEqual("jobs", (await grains.GetGrain<IArtifactGrain>(later.Id).DescribeAsync())!.Volume);
        Assert.AreEqual("mirror:1", (await pool.Volumes.Volume("jobs").DescribeAsync()).Layout.ToString(), "one live store: one copy");
        CollectionAssert.AreEqual(VolumeCluster.Bytes(1000, 5), await ArtifactTransfer.ReadAllAsync(grains, later));
        Assert.IsNull((await grains.GetGrain<IArtifactGrain>(artifact.Id).DescribeAsync())!.Volume);
        CollectionAssert.AreEqual(content, await ArtifactTransfer.ReadAllAsync(grains, artifact));
    }
}
