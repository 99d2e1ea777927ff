using PoolAI.Jobs;
using PoolAI.Kinds.DataProcessing;

namespace PoolAI.Tests.Volumes;

/// <summary>The rules of a sync that need no pool: when two files count as the same, what a plan copies and deletes, and how its input is checked and shown.</summary>
[TestClass]
public sealed class VolumeSyncRulesTests
{
    private const string Md5A = "\"0cc175b9c0f1b6a831c399e269772661\"";
    private const string Md5B = "\"92eb5ffee6ae2fec3ad71c777531578f\"";
    private static readonly string ShaA = new('a', 64);
    private static readonly string ShaB = new('b', 64);

    [TestMethod]
    public void EqualSingleWriteETagsAreTheSameContentAndDifferentOnesAreNot()
    {
        Assert.AreEqual(Sameness.Same, ContentMatch.Compare(new("x", 1, Md5A, null), new("x", 1, Md5A.Trim('"').ToUpperInvariant(), null)));
        Assert.AreEqual(Sameness.Different, ContentMatch.Compare(new("x", 1, Md5A, null), new("x", 1, Md5B, null)));
    }

    [TestMethod]
    public void LengthsDecideBeforeAnythingElse() =>
        Assert.AreEqual(Sameness.Different, ContentMatch.Compare(new("x", 1, Md5A, ShaA), new("x", 2, Md5A, ShaA)));

    [TestMethod]
    public void KnownSha256sDecideOverETags()
    {
        Assert.AreEqual(Sameness.Same, ContentMatch.Compare(new("x", 1, "\"abc-2\"", ShaA), new("x", 1, Md5A, ShaA.ToUpperInvariant())));
        Assert.AreEqual(Sameness.Different, ContentMatch.Compare(new("x", 1, Md5A, ShaA), new("x", 1, Md5A, ShaB)));
    }

    [TestMethod]
    public void AMultipartETagAgainstAPlainOneCannotBeTold() =>
        Assert.AreEqual(Sameness.Unknown, ContentMatch.Compare(new("x", 1, "\"9b2cf535f27731c974343645a3985328-3\"", ShaA), new("x", 1, Md5A, null)));

    [TestMethod]
    public void APlanCopiesWhatIsMissingOrDifferentSkipsTheRestAndDeletesExtrasOnlyWhenAsked()
    {
        SyncEntry[] source = [new("b", 1, Md5A, null), new("a", 1, Md5A, null), new("c", 1, Md5A, null), new("d", 1, "\"x-2\"", null)];
        SyncEntry[] target = [new("a", 1, Md5A, null), new("c", 1, Md5B, null), new("d", 1, Md5A, null), new("z", 5, Md5B, null)];

        var keep = SyncPlan.Make(source, target, delete: false);
        var mirror = SyncPlan.Make(source, target, delete: true);

        CollectionAssert.AreEqual(new[] { "b", "c" }, keep.Copy.Select(e => e.Name).ToArray());
        CollectionAssert.AreEqual(new[] { "a" }, keep.Skip.Select(e => e.Name).ToArray());
        CollectionAssert.AreEqual(new[] { "d" }, keep.Undecided.Select(e => e.Source.Name).ToArray());
        Assert.AreEqual(0, keep.Delete.Count);
        CollectionAssert.AreEqual(new[] { "z" }, mirror.Delete.Select(e => e.Name).ToArray());
    }

    [TestMethod]
    public void FoldersEndInASlashAndEmptyMeansEverything()
    {
        Assert.AreEqual(("data/sub/", "", "backups/", ""),
            (DataProcessingRules.VolumeFolder("data/sub"), DataProcessingRules.VolumeFolder(null), DataProcessingRules.BucketFolder("backups///"), DataProcessingRules.BucketFolder("")));
        var refused = Assert.ThrowsExactly<JobValidationException>(() => DataProcessingRules.VolumeFolder("/data"));
        Assert.AreEqual(("input.prefix", "must be a folder of the volume without a leading '/' (such as data/); was '/data'"), (refused.Field, refused.Rule));
    }

    [TestMethod]
    public void TheOperationMustBeTheJobsTarget()
    {
        var input = DataProcessingInput.Sync("push", "vol", null, "http://127.0.0.1:5080/s3", "bucket", null, "AKID", "SECRET");

        var unknown = Assert.ThrowsExactly<JobValidationException>(() => DataProcessingRules.Validate("sync", input with { Operation = "shuffle" }));
        var other = Assert.ThrowsExactly<JobValidationException>(() => DataProcessingRules.Validate("probe", input));

        Assert.AreEqual(("input.operation", "must be one of sync; was 'shuffle'"), (unknown.Field, unknown.Rule));
        Assert.AreEqual(("model", "must be the job's operation 'sync'; was 'probe'"), (other.Field, other.Rule));
    }

    [TestMethod]
    public void ARuleAboutACredentialNeverRepeatsIt()
    {
        var input = DataProcessingInput.Sync("push", "vol", null, "http://127.0.0.1:5080/s3", "bucket", null, "AKID", "has a space");

        var refused = Assert.ThrowsExactly<JobValidationException>(() => DataProcessingRules.ValidateSync(input));

        Assert.AreEqual(("input.secret_access_key", "must be the S3 secret access key: at most 256 characters, without spaces or control characters"), (refused.Field, refused.Rule));
    }

    [TestMethod]
    public void AnInputPrintsAndShowsWithoutItsCredentials()
    {
        var input = DataProcessingInput.Sync("pull", "vol", "data", "http://127.0.0.1:5080/s3", "bucket", null, "AKIDVALUE", "SECRETVALUE", delete: true);

        Assert.AreEqual(
            "DataProcessingInput { Operation = sync, Direction = pull, Volume = vol, Prefix = data, Endpoint = http://127.0.0.1:5080/s3, Bucket = bucket, BucketPrefix = , AccessKeyId = (redacted), SecretAccessKey = (redacted), Delete = True, Region =  }",
            input.ToString());
        Assert.AreEqual(input with { AccessKeyId = "(redacted)", SecretAccessKey = "(redacted)" }, input.WithoutSecrets());
    }
}
