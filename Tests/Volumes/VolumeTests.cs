using System.Security.Cryptography;
using System.Text;
using PoolAI.Jobs;
using PoolAI.Volumes;

namespace PoolAI.Tests.Volumes;

/// <summary>Volumes on an in-process cluster of a coordinator and six miners: files round-trip, survive lost stores, heal, and refuse bad input.</summary>
[TestClass]
[DoNotParallelize]
public sealed class VolumeTests
{
    private static VolumeCluster _pool = null!;

    [ClassInitialize]
    public static async Task Start(TestContext context) => _pool = await VolumeCluster.StartAsync(miners: 6);

    [ClassCleanup]
    public static async Task Stop() => await _pool.DisposeAsync();

    private static string NewVolume() => $"v{Guid.NewGuid():N}"[..20];

    [TestMethod]
    public async Task FilesOfAwkwardSizesReadBackByteIdentical()
    {
        var volume = NewVolume();
        await _pool.Volumes.CreateAsync(volume, new VolumeSpec("rs:4+2", ShardBytes: VolumeCluster.ShardBytes));
        var stripe = 4 * VolumeCluster.ShardBytes;
        int[] sizes = [0, 1, VolumeCluster.ShardBytes - 1, VolumeCluster.ShardBytes, VolumeCluster.ShardBytes + 1, stripe - 1, stripe, stripe + 1, 3 * stripe + 12345];
        foreach (var size in sizes)
        {
            var content = VolumeCluster.Bytes(size, size);
            var file = await _pool.PutAsync(volume, $"sizes/{size}.bin", content);
            Assert.AreEqual(size, file.Length);
            Assert.AreEqual(Convert.ToHexStringLower(SHA256.HashData(content)), file.Sha256);
            CollectionAssert.AreEqual(content, await _pool.GetAsync(volume, $"sizes/{size}.bin"), $"{size} bytes");
        }

        var listing = await _pool.Volumes.Volume(volume).ListAsync(new ListRequest("sizes/"));
        Assert.AreEqual(sizes.Length, listing.Files.Count);
    }

    [TestMethod]
    public async Task RangesReadExactlyTheBytesAsked()
    {
        var volume = NewVolume();
        await _pool.Volumes.CreateAsync(volume, new VolumeSpec("rs:4+2", ShardBytes: VolumeCluster.ShardBytes));
        var content = VolumeCluster.Bytes(700_000, 3);
        await _pool.PutAsync(volume, "r.bin", content);
        foreach (var (offset, length) in new[] { (0L, 10L), (65_535L, 2L), (262_143L, 300_000L), (699_999L, 1L), (100L, -1L) })
        {
            await using var read = await _pool.Volumes.OpenReadAsync(volume, "r.bin", offset, length);
            var buffer = new MemoryStream();
            await read.CopyToAsync(buffer);
            var expected = content.AsSpan((int)offset, length < 0 ? content.Length - (int)offset : (int)length).ToArray();
            CollectionAssert.AreEqual(expected, buffer.ToArray(), $"range {offset}+{length}");
        }
    }

    [TestMethod]
    public async Task AFlippedByteIsReadAroundReportedAndRewrittenByTheScrub()
    {
        var volume = NewVolume();
        await _pool.Volumes.CreateAsync(volume, new VolumeSpec("rs:4+2", ShardBytes: VolumeCluster.ShardBytes));
        var content = VolumeCluster.Bytes(300_000, 5);
        await _pool.PutAsync(volume, "flip.bin", content);
        var layout = await _pool.Volumes.Volume(volume).OpenFileAsync("flip.bin");
        var stripe = layout.Extents[0].Stripes[0];
        var holder = stripe.Shards[1].Store;
        var index = int.Parse(holder["store-".Length..], System.Globalization.CultureInfo.InvariantCulture);
        var path = _pool.StoreIn(index).PathOf(ShardIds.Of(volume, layout.Extents[0].Write, 0, 1));
        var bytes = await File.ReadAllBytesAsync(path);
        bytes[100] ^= 0x40;
        await File.WriteAllBytesAsync(path, bytes);

        await using (var read = await _pool.Volumes.OpenReadAsync(volume, "flip.bin"))
        {
            var buffer = new MemoryStream();
            await read.CopyToAsync(buffer);
            CollectionAssert.AreEqual(content, buffer.ToArray());
            Assert.AreEqual(1, read.Damage.Count, "the flip is reported");
            Assert.AreEqual(ShardReadStatus.Corrupt, read.Damage[0].Status);
            Assert.AreEqual(holder, read.Damage[0].Store);
        }

        // The report repairs it; a scrub would too. Either way the shard on disk is whole again.
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while ((await _pool.StoreIn(index).GetAsync(ShardIds.Of(volume, layout.Extents[0].Write, 0, 1), 0, int.MaxValue)).Status != ShardReadStatus.Ok)
        {
            Assert.IsTrue(DateTime.UtcNow < deadline, $"the corrupt shard was not rewritten: {(await _pool.Volumes.Volume(volume).GetHealthAsync()).Repair} {string.Join("; ", (await _pool.Volumes.Volume(volume).GetHealthAsync()).Repair?.Problems ?? [])}");
            await Task.Delay(200);
        }

        bytes = await File.ReadAllBytesAsync(path);
        bytes[200] ^= 0x01;
        await File.WriteAllBytesAsync(path, bytes);
        await _pool.Volumes.Volume(volume).ScrubAsync();
        deadline = DateTime.UtcNow.AddSeconds(30);
        MaintenanceProgress? scrub;
        while ((scrub = (await _pool.Volumes.Volume(volume).GetHealthAsync()).Scrub) is null or { Running: true })
        {
            Assert.IsTrue(DateTime.UtcNow < deadline, "the scrub did not finish");
            await Task.Delay(200);
        }

        Assert.AreEqual(1, scrub.ShardsRewritten, string.Join("; ", scrub.Problems));
        Assert.IsTrue(scrub.Problems.Any(p => p.Contains("corrupt", StringComparison.Ordinal)), string.Join("; ", scrub.Problems));
        Assert.AreEqual(ShardReadStatus.Ok, (await _pool.StoreIn(index).GetAsync(ShardIds.Of(volume, layout.Extents[0].Write, 0, 1), 0, int.MaxValue)).Status);
    }

    [TestMethod]
    public async Task AnEncryptedVolumeLeavesNoPlaintextInAnyShardFile()
    {
        var volume = NewVolume();
        await _pool.Volumes.CreateAsync(volume, new VolumeSpec("rs:4+2", Encrypt: true, ShardBytes: VolumeCluster.ShardBytes));
        var marker = "POOLAI-SECRET-MARKER-7f3a9c";
        var text = string.Concat(Enumerable.Repeat(marker + " lorem ipsum ", 20_000));
        var content = Encoding.UTF8.GetBytes(text);
        await _pool.PutAsync(volume, "secret.txt", content);
        CollectionAssert.AreEqual(content, await _pool.GetAsync(volume, "secret.txt"));
        var files = Directory.EnumerateFiles(_pool.Root, "*", SearchOption.AllDirectories).Where(f => f.Contains(volume, StringComparison.Ordinal)).ToList();
        Assert.IsTrue(files.Count >= 6, $"{files.Count} shard files");
        var needle = Encoding.UTF8.GetBytes(marker[..12]);
        foreach (var file in files)
            Assert.AreEqual(-1, (await File.ReadAllBytesAsync(file)).AsSpan().IndexOf(needle), $"plaintext in {file}");
    }

    [TestMethod]
    public async Task BadInputIsRefusedNamingTheFieldAndNothingChanges()
    {
        var volume = NewVolume();
        await _pool.Volumes.CreateAsync(volume, new VolumeSpec("mirror:3", QuotaBytes: 1000, ShardBytes: VolumeCluster.ShardBytes));
        await _pool.PutAsync(volume, "keep.bin", VolumeCluster.Bytes(600, 1));

        async Task Refused(string field, Func<Task> action)
        {
            var e = await Assert.ThrowsExactlyAsync<JobValidationException>(action);
            Assert.AreEqual(field, e.Field, e.Message);
        }

        await Refused("layout", () => _pool.Volumes.CreateAsync(NewVolume(), new VolumeSpec("rs:0+2")));
        await Refused("layout", () => _pool.Volumes.CreateAsync(NewVolume(), new VolumeSpec("rs:200+100")));
        await Refused("layout", () => _pool.Volumes.CreateAsync(NewVolume(), new VolumeSpec("rs:6+2")));
        await Refused("layout", () => _pool.Volumes.CreateAsync(NewVolume(), new VolumeSpec("raid5")));
        await Refused("volume", () => _pool.Volumes.CreateAsync("Bad_Name", new VolumeSpec(null)));
        await Refused("volume", () => _pool.Volumes.CreateAsync(new string('a', 64), new VolumeSpec(null)));
        await Refused("volume", () => _pool.Volumes.CreateAsync(volume, new VolumeSpec(null)));
        await Refused("path", () => _pool.PutAsync(volume, "../x", [1]));
        await Refused("path", () => _pool.PutAsync(volume, "a/../../x", [1]));
        await Refused("path", () => _pool.PutAsync(volume, new string('p', 1025), [1]));
        await Refused("quota", () => _pool.PutAsync(volume, "big.bin", VolumeCluster.Bytes(500, 2)));
        await Assert.ThrowsExactlyAsync<VolumeNotFoundException>(() => _pool.PutAsync("no-such-volume", "x", [1]));
        await Assert.ThrowsExactlyAsync<VolumeNotFoundException>(() => _pool.GetAsync(volume, "missing.bin"));

        var view = await _pool.Volumes.Volume(volume).DescribeAsync();
        Assert.AreEqual(1, view.Files);
        Assert.AreEqual(600, view.UsedBytes);
        CollectionAssert.AreEqual(VolumeCluster.Bytes(600, 1), await _pool.GetAsync(volume, "keep.bin"));
        Assert.AreEqual(1, (await _pool.Volumes.Volume(volume).ListAsync(new ListRequest())).Files.Count);
    }
}

/// <summary>Lost stores: degraded reads, a rebuild onto silos that join, and a second loss after it.</summary>
[TestClass]
[DoNotParallelize]
public sealed class VolumeRebuildTests
{
    [TestMethod]
    public async Task FilesSurviveTwoLostMinersAndTwoMoreAfterTheRebuild()
    {
        await using var pool = await VolumeCluster.StartAsync(miners: 6);
        const string volume = "rebuild";
        await pool.Volumes.CreateAsync(volume, new VolumeSpec("rs:4+2", ShardBytes: VolumeCluster.ShardBytes));
        var files = new Dictionary<string, byte[]>();
        foreach (var size in new[] { 0, 1, VolumeCluster.ShardBytes - 1, VolumeCluster.ShardBytes + 1, 2_000_000 })
        {
            files[$"f{size}"] = VolumeCluster.Bytes(size, size + 1);
            await pool.PutAsync(volume, $"f{size}", files[$"f{size}"]);
        }

        await pool.Cluster.KillSiloAsync(pool.Cluster.Silos[1]);
        await pool.Cluster.KillSiloAsync(pool.Cluster.Silos[2]);
        foreach (var (path, content) in files)
            CollectionAssert.AreEqual(content, await pool.GetAsync(volume, path), $"{path} with two stores down");

        // Two silos join; the rebuild puts the lost shards on them.
        await pool.Cluster.StartAdditionalSiloAsync();
        await pool.Cluster.StartAdditionalSiloAsync();
        var health = await pool.WaitForHealthyAsync(volume, TimeSpan.FromMinutes(2));
        Assert.IsTrue(health.Repair is { ShardsRewritten: > 0 }, $"{health.Repair}");
        Assert.IsTrue(health.Stores.Where(s => s.Shards > 0).All(s => s.Alive), string.Join(", ", health.Stores));

        // Kill the two new silos, which now hold rebuilt shards: still readable.
        var joined = pool.Cluster.Silos.Skip(5).ToList();
        foreach (var silo in joined)
            await pool.Cluster.KillSiloAsync(silo);
        foreach (var (path, content) in files)
            CollectionAssert.AreEqual(content, await pool.GetAsync(volume, path), $"{path} after the second loss");
    }

    [TestMethod]
    public async Task UnderItsWriteQuorumAWriteGoesOnWithAStoreDownAndTheRebuildPlacesTheMissingShards()
    {
        await using var pool = await VolumeCluster.StartAsync(miners: 3);
        await pool.Volumes.CreateAsync("quorum", new VolumeSpec("rs:2+1", ShardBytes: VolumeCluster.ShardBytes, WriteQuorum: 2));
        await pool.Volumes.CreateAsync("full", new VolumeSpec("rs:2+1", ShardBytes: VolumeCluster.ShardBytes));
        var refusedQuorum = await Assert.ThrowsAsync<JobValidationException>(() => pool.Volumes.CreateAsync("bad-quorum", new VolumeSpec("rs:2+1", WriteQuorum: 1)));
        Assert.AreEqual(("write_quorum", "must be 0 (every shard) or 2 to 3 shards of each stripe for rs:2+1 (got 1): fewer than 2 could not be read back"), (refusedQuorum.Field, refusedQuorum.Rule));

        await pool.Cluster.KillSiloAsync(pool.Cluster.Silos[2]);
        await pool.WaitForStoresAsync(2);
        var content = VolumeCluster.Bytes(300_000, 5);

        // Full redundancy needs three live stores: refused, and nothing is stored.
        var refused = await Assert.ThrowsAsync<JobValidationException>(() => pool.PutAsync("full", "a.bin", content));
        Assert.AreEqual("layout", refused.Field);
        Assert.AreEqual(0, (await pool.Volumes.Volume("full").ListAsync(new ListRequest())).Files.Count);

        // The quorum volume stores two shards of each stripe and records the third missing: degraded, readable.
        await pool.PutAsync("quorum", "a.bin", content);
        var degraded = await pool.Volumes.Volume("quorum").GetHealthAsync();
        Assert.AreEqual((0L, degraded.Stripes, 0L), (degraded.Healthy, degraded.Degraded, degraded.Lost), "every stripe short of one shard");
        Assert.IsTrue(degraded.Stores.All(s => s.Alive), string.Join(", ", degraded.Stores));
        CollectionAssert.AreEqual(content, await pool.GetAsync("quorum", "a.bin"));
        // The rebuild tries, finds no store to place the missing shards on, and waits with its work left.
        var waiting = await WaitForAsync(pool, "quorum", r => r is { WorkLeft: true }, TimeSpan.FromSeconds(60));

        // A store joins: the rebuild places the missing shards on it, and every stripe is whole.
        await pool.Cluster.StartAdditionalSiloAsync();
        var health = await pool.WaitForHealthyAsync("quorum", TimeSpan.FromMinutes(2));
        Assert.AreEqual(3, health.Stores.Count(s => s.Shards == health.Stripes), string.Join(", ", health.Stores));
        Assert.IsTrue(health.Repair is { ShardsRewritten: > 0 }, $"{health.Repair}");
        // One rebuild in several runs: the progress continued from the run that waited, not a fresh one.
        Assert.AreEqual((waiting.Started, false), (health.Repair!.Started, health.Repair.WorkLeft), $"{health.Repair}");
        Assert.IsTrue(health.Repair.Runs >= 2, $"{health.Repair}");
        Assert.AreEqual(health.Stripes, health.Repair.ShardsRewritten, "one missing shard per stripe, each placed once");

        // Two of the three first stores gone now: the bytes come back from the survivor and the rebuilt shards.
        await pool.Cluster.KillSiloAsync(pool.Cluster.Silos[1]);
        CollectionAssert.AreEqual(content, await pool.GetAsync("quorum", "a.bin"));
    }

    private static async Task<MaintenanceProgress> WaitForAsync(VolumeCluster pool, string volume, Func<MaintenanceProgress?, bool> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var repair = (await pool.Volumes.Volume(volume).GetHealthAsync()).Repair;
            if (condition(repair))
                return repair!;
            Assert.IsTrue(DateTime.UtcNow < deadline, $"volume {volume}: rebuild {repair}");
            await Task.Delay(200);
        }
    }
}

/// <summary>Storage audits: honest stores are paid once per period; a store that answers with other bytes is caught, unpaid and suspected, and loses the shard.</summary>
[TestClass]
[DoNotParallelize]
public sealed class VolumeAuditTests
{
    [TestMethod]
    public async Task HonestStoresArePaidOncePerPeriodAndALyingStoreIsCaughtUnpaidAndSuspected()
    {
        // Seven stores for six shards a stripe, so that there is somewhere else to move a shard.
        await using var pool = await VolumeCluster.StartAsync(miners: 7);
        const string volume = "audited";
        await pool.Volumes.CreateAsync(volume, new VolumeSpec("rs:4+2", ShardBytes: VolumeCluster.ShardBytes));
        await pool.PutAsync(volume, "data.bin", VolumeCluster.Bytes(1_500_000, 8));
        var maintenance = pool.Cluster.Client.GetGrain<IVolumeMaintenanceGrain>(volume);

        var first = await maintenance.AuditAsync();
        Assert.AreEqual(7, first.Passed.Count, string.Join("; ", first.Failed.Select(f => $"{f.Key}: {f.Value}")));
        Assert.AreEqual(7, first.Paid.Count);
        await maintenance.AuditAsync(); // the same period again: audited, not paid twice
        var ledger = pool.Cluster.Client.GetGrain<PoolAI.Rewards.IRewardLedgerGrain>(VolumeCluster.StoreOf(3));
        var history = await ledger.GetHistoryAsync(null, 100);
        var storage = history.Entries.Where(e => e.Kind == PoolAI.Rewards.RewardEntryKind.Storage).ToList();
        Assert.AreEqual(1, storage.Count, "one storage credit per period");
        Assert.IsTrue(storage[0].Total > 0);
        Assert.AreEqual("volume:audited", storage[0].Model);

        // Store 3 keeps other bytes under the same shard ids, with checksums that match them: only an audit shows it.
        var layout = await pool.Volumes.Volume(volume).OpenFileAsync("data.bin");
        var lied = 0;
        foreach (var stripe in layout.Extents[0].Stripes)
        {
            for (var shard = 0; shard < stripe.Shards.Count; shard++)
            {
                if (stripe.Shards[shard].Store != VolumeCluster.StoreOf(3))
                    continue;
                await pool.StoreIn(3).PutAsync(ShardIds.Of(volume, layout.Extents[0].Write, stripe.Index, shard), new byte[stripe.ShardBytes]);
                lied++;
            }
        }

        Assert.IsTrue(lied > 0);
        var suspicionsBefore = (await ledger.GetSummaryAsync()).Suspicions.Count;
        var second = await maintenance.AuditAsync();
        Assert.IsTrue(second.Failed.ContainsKey(VolumeCluster.StoreOf(3)), string.Join(", ", second.Passed));
        StringAssert.Contains(second.Failed[VolumeCluster.StoreOf(3)], "wrong answer");
        Assert.IsFalse(second.Paid.ContainsKey(VolumeCluster.StoreOf(3)));
        Assert.AreEqual(6, second.Passed.Count);
        var summary = await ledger.GetSummaryAsync();
        Assert.AreEqual(suspicionsBefore + 1, summary.Suspicions.Count);
        StringAssert.Contains(summary.Suspicions[^1].Reason, "storage audit");

        // The challenged shard is rebuilt elsewhere: store 3 holds fewer shards of the file than before.
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while ((await pool.Volumes.Volume(volume).OpenFileAsync("data.bin")).Extents[0].Stripes.Sum(s => s.Shards.Count(h => h.Store == VolumeCluster.StoreOf(3))) >= lied)
        {
            Assert.IsTrue(DateTime.UtcNow < deadline, "the audited shard stayed on the lying store");
            await Task.Delay(200);
        }
    }
}

/// <summary>One silo with several drives: each drive is a store, so erasure coding works on one machine and a lost disk is rebuilt.</summary>
[TestClass]
[DoNotParallelize]
public sealed class VolumeDriveTests
{
    [TestMethod]
    public async Task SixDrivesOfOneSiloHoldAnRsFourPlusTwoVolumeAndALostDriveIsReadAroundAndRefilled()
    {
        var root = Directory.CreateTempSubdirectory("poolai-drives-").FullName;
        var cluster = TestPools.Build(1, _ => TestPools.Configuration("all-in-one", workerId: "solo", extra: new Dictionary<string, string?>
        {
            ["PoolAI:Volumes:MasterKey"] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)),
            ["PoolAI:Volumes:Store:Directory"] = root,
            ["PoolAI:Volumes:Store:Drives"] = "6",
            ["PoolAI:Volumes:Store:FlushToDisk"] = "false",
            ["PoolAI:Volumes:ScrubInterval"] = "00:00:00",
            ["PoolAI:Volumes:AuditPeriod"] = "00:00:00",
        }));
        await cluster.DeployAsync();
        try
        {
            var volumes = new VolumeClient(cluster.Client);
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while ((await cluster.Client.GetGrain<IStoreDirectoryGrain>(IStoreDirectoryGrain.Default).GetStoresAsync()).Count(s => s.Alive) < 6)
            {
                Assert.IsTrue(DateTime.UtcNow < deadline, "six drives did not register");
                await Task.Delay(100);
            }

            await volumes.CreateAsync("disks", new VolumeSpec("rs:4+2", ShardBytes: VolumeCluster.ShardBytes));
            var content = VolumeCluster.Bytes(1_000_000, 9);
            await volumes.WriteAsync("disks", "f.bin", new MemoryStream(content));
            var health = await volumes.Volume("disks").GetHealthAsync();
            CollectionAssert.AreEquivalent(new[] { "solo", "solo~2", "solo~3", "solo~4", "solo~5", "solo~6" }, health.Stores.Select(s => s.Store).ToArray());

            // Drive 3's disk is replaced by an empty one.
            Directory.Delete(Path.Combine(root, "drive-3"), recursive: true);
            var read = new MemoryStream();
            await volumes.ReadAsync("disks", "f.bin", read);
            CollectionAssert.AreEqual(content, read.ToArray());
            await volumes.Volume("disks").ScrubAsync();
            deadline = DateTime.UtcNow.AddSeconds(60);
            MaintenanceProgress? scrub;
            while ((scrub = (await volumes.Volume("disks").GetHealthAsync()).Scrub) is null or { Running: true })
            {
                Assert.IsTrue(DateTime.UtcNow < deadline, "the scrub did not finish");
                await Task.Delay(200);
            }

            var refilled = Directory.EnumerateFiles(Path.Combine(root, "drive-3"), "*", SearchOption.AllDirectories).Count();
            var stripes = (await volumes.Volume("disks").GetHealthAsync()).Stripes;
            Assert.AreEqual(stripes, refilled, $"every stripe's shard is back on drive 3 ({string.Join("; ", scrub.Problems)})");
        }
        finally
        {
            await cluster.DisposeAsync();
            Directory.Delete(root, recursive: true);
        }
    }
}
