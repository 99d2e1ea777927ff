using System.ComponentModel.DataAnnotations;
using PoolAI.Artifacts;
using PoolAI.Jobs;

namespace PoolAI.Tests.Volumes;

/// <summary>The layout the pool gives its artifact volume, and the settings that choose it.</summary>
[TestClass]
public sealed class ArtifactLayoutsTests
{
    [TestMethod]
    public void AutoIsRs4Plus2FromSixLiveStoresElseAMirrorOfUpToThreeAndNothingWithoutAStore()
    {
        var chosen = Enumerable.Range(0, 8).Select(live => ArtifactLayouts.Choose("auto", live)?.ToString() ?? "none").ToArray();

        CollectionAssert.AreEqual(new[] { "none", "mirror:1", "mirror:2", "mirror:3", "mirror:3", "mirror:3", "rs:4+2", "rs:4+2" }, chosen);
        Assert.AreEqual("rs:4+2", ArtifactLayouts.Choose(" AUTO ", 100)?.ToString());
    }

    [TestMethod]
    public void AnExplicitLayoutNeedsAStorePerShard()
    {
        Assert.IsNull(ArtifactLayouts.Choose("rs:6+3", 8));
        Assert.AreEqual("rs:6+3", ArtifactLayouts.Choose("rs:6+3", 9)?.ToString());
        Assert.IsNull(ArtifactLayouts.Choose("mirror:2", 1));
        Assert.AreEqual("mirror:2", ArtifactLayouts.Choose("mirror:2", 2)?.ToString());
        Assert.IsNull(ArtifactLayouts.Choose("mirror:1", 0));
    }

    [TestMethod]
    public void BadSettingsAreRefusedNamingTheKey()
    {
        Assert.AreEqual("layout", Assert.ThrowsExactly<JobValidationException>(() => ArtifactLayouts.Check("raid5")).Field);
        Assert.AreEqual("layout", Assert.ThrowsExactly<JobValidationException>(() => ArtifactLayouts.Check(" ")).Field);

        var errors = new ArtifactOptions { Volume = "Jobs_Volume", VolumeLayout = "rs:0+2" }.Validate(new ValidationContext(new object())).ToList();

        CollectionAssert.AreEqual(
            new[]
            {
                "PoolAI:Artifacts:Volume must be 3 to 63 characters of a-z, 0-9 and '-', starting and ending with a letter or digit; was 'Jobs_Volume'",
                "PoolAI:Artifacts:VolumeLayout must be 'auto', rs:K+M or mirror:N (rs:K+M needs K ≥ 1 data shards (got 0)); was 'rs:0+2'",
            },
            errors.Select(e => e.ErrorMessage).ToArray());
        Assert.AreEqual(0, new ArtifactOptions().Validate(new ValidationContext(new object())).Count());
        Assert.AreEqual(("jobs", "auto"), (new ArtifactOptions().Volume, new ArtifactOptions().VolumeLayout));
    }
}
