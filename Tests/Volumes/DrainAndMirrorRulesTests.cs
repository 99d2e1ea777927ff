using PoolAI.Jobs;
using PoolAI.Models;
using PoolAI.Volumes;

namespace PoolAI.Tests.Volumes;

/// <summary>The plain rules behind <c>migrate</c> and <c>mirror</c>: where a drained store's shards may go, and where a mirrored file lands.</summary>
[TestClass]
public sealed class DrainAndMirrorRulesTests
{
    private static readonly VolumeLayout Rs42 = VolumeLayout.Parse("rs:4+2");

    [TestMethod]
    public void AStripeWithAShardOnTheStoreNeedsAStoreThatHoldsNoneOfIt()
    {
        var stripe = Stripe("s1", "s2", "s3", "s4", "s5", "s6");
        Assert.IsNull(DrainRules.Shortfall("data", Rs42, "s1", [stripe], Stores("s2", "s3", "s4", "s5", "s6", "s7")));
        Assert.AreEqual(
            "volume 'data' (rs:4+2) keeps the 6 shards of each stripe on 6 distinct stores, but without s1 only 5 live stores take shards (s2, s3, s4, s5, s6): 1 of the 1 stripes with a shard on s1 have no store to move it to; 1 more live store is needed",
            DrainRules.Shortfall("data", Rs42, "s1", [stripe], Stores("s2", "s3", "s4", "s5", "s6")));
        Assert.AreEqual(
            "volume 'data' (rs:4+2) keeps the 6 shards of each stripe on 6 distinct stores, but without s1 only 4 live stores take shards (s2, s3, s4, s5): 2 of the 2 stripes with a shard on s1 have no store to move it to; 2 more live stores are needed",
            DrainRules.Shortfall("data", Rs42, "s1", [stripe, stripe], Stores("s2", "s3", "s4", "s5")));
    }

    [TestMethod]
    public void AStripeWhoseOtherShardsSitOnDeadStoresStillFitsOnAnyLiveOne()
    {
        var stripe = Stripe("s1", "dead2", "dead3", "s4", "s5", "s6");
        Assert.IsNull(DrainRules.Shortfall("data", Rs42, "s1", [stripe], Stores("s4", "s5", "s6", "s7")));
    }

    [TestMethod]
    public void NoTargetsAtAllIsSaidInWords()
    {
        Assert.AreEqual(
            "volume 'data' (mirror:2) keeps the 2 shards of each stripe on 2 distinct stores, but without s1 only 0 live stores take shards (none): 1 of the 1 stripes with a shard on s1 have no store to move it to; 2 more live stores are needed",
            DrainRules.Shortfall("data", VolumeLayout.Parse("mirror:2"), "s1", [Stripe("s1", "s2")], []));
    }

    [TestMethod]
    public void PlacementTargetsLeaveOutDeadAndDrainingStores()
    {
        var now = DateTimeOffset.UnixEpoch;
        StoreView View(string id, bool alive, string? draining) => new(Registration(id), alive, now, alive ? null : now, null, draining);
        var targets = StripePlacement.Targets([View("s3", true, null), View("s1", true, null), View("s2", false, null), View("s4", true, "migrate job 1")], except: "s3");
        CollectionAssert.AreEqual(new[] { "s1" }, targets.Select(t => t.StoreId).ToArray());
    }

    [TestMethod]
    public void AMirroredFileLandsInTheFolderOfTheModelThatHoldsIt()
    {
        Assert.AreEqual(("shakespeare-char", "model.bin"), MirroredModels.Target("shakespeare-char/model.bin"));
        Assert.AreEqual(("tiny_v2.1", "config.json"), MirroredModels.Target("/releases/2025/tiny_v2.1/config.json"));
        var hidden = Assert.ThrowsExactly<JobValidationException>(() => MirroredModels.Target("tiny/.secret"));
        Assert.AreEqual(("path", "the file name '.secret' starts with '.': hidden and temporary files are not mirrored"), (hidden.Field, hidden.Rule));
        var folder = Assert.ThrowsExactly<JobValidationException>(() => MirroredModels.Target("a/b c/model.bin"));
        Assert.AreEqual(("path", "the folder 'b c' that holds the file names the model, and a model id is 1 to 128 characters of a-z, A-Z, 0-9, '.', '_' and '-', not starting with '.'"), (folder.Field, folder.Rule));
    }

    private static StoreRegistration Registration(string id) => new(id, "host-" + id, StoreKind.Trusted, null, 0);

    private static List<StoreRegistration> Stores(params string[] ids) => [.. ids.Select(Registration)];

    private static StripeRecord Stripe(params string[] stores) => new(0, 4, 1, [.. stores.Select(s => new ShardRecord(s, new byte[16], false, []))]);
}
