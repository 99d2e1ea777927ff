using Orleans.TestingHost;
using PoolAI.Client.Sdk;
using PoolAI.Jobs;
using PoolAI.Rewards;

namespace PoolAI.Tests.Execution;

/// <summary>
/// A kind the pool does not know (<see cref="ReverseKind"/>, defined in the tests) added to a cluster with one
/// registration: it is validated, queued, placed on a silo that advertises it, run by its executor with progress,
/// streamed output, checkpoints and artifacts, retried from its checkpoint, cancelled keeping its checkpoint, and paid.
/// </summary>
[TestClass]
public sealed class CustomKindTests
{
    private const string Worker = "reverse-worker";
    private static InProcessTestCluster _cluster = null!;

    private static PoolClient Pool => new(_cluster.Client);

    [ClassInitialize]
    public static async Task Start(TestContext _)
    {
        _cluster = TestPools.Build(1, _ => TestPools.Configuration("all-in-one", storage: "process", workerId: Worker), customize: (_, silo) => silo.AddReverse());
        await _cluster.DeployAsync();
    }

    [ClassCleanup]
    public static async Task Stop() => await _cluster.DisposeAsync();

    [TestMethod]
    public async Task AKindDefinedOutsideThePoolRunsStreamsStoresAnArtifactAndIsPaid()
    {
        var submitted = await Pool.SubmitAsync(ReverseKind.Job("pool of compute"));
        var streamed = string.Concat(await ToListAsync(Pool.StreamTextAsync(submitted.Id)));
        var done = await Pool.WaitAsync(submitted.Id, TimeSpan.FromMinutes(1));

        Assert.AreEqual(JobStatus.Succeeded, done.Status, done.StatusMessage);
        var output = (ReverseOutput)done.Result!.Output;
        Assert.AreEqual("etupmoc fo loop", output.Reversed);
        Assert.AreEqual("etupmoc fo loop", streamed);
        Assert.AreEqual(15, done.Result.WorkUnits);
        Assert.AreEqual(new JobProgress(15, 15, "characters", Metrics: done.Progress!.Metrics), done.Progress);
        Assert.AreEqual(15.0, done.Progress.Metrics!["step"]);
        Assert.AreEqual("etupmoc fo loop", System.Text.Encoding.UTF8.GetString(await Pool.ReadArtifactAsync(output.Report!)));
        Assert.AreEqual(output.Report, done.Artifacts!.Single(a => a.Name == "reversed.txt"));
        Assert.AreEqual(15, done.Checkpoint!.Step);
        // Content-addressed: the last checkpoint holds the same bytes, so the store keeps them once, described as first stored.
        var stored = (await Pool.GetArtifactAsync(output.Report!.Id))!;
        Assert.AreEqual((output.Report.Id, 15L), (stored.Id, stored.Size));
        Assert.AreEqual(done.Checkpoint!.Artifact.Id, output.Report.Id);

        var credit = (await Pool.GetRewardHistoryAsync(Worker, limit: 100)).Entries.Single(e => e.JobId == done.Id);
        Assert.AreEqual(RewardEntryKind.Credit, credit.Kind);
        Assert.AreEqual(ReverseKind.Reverse, credit.JobKind);
        Assert.AreEqual(15, credit.WorkUnits);
        Assert.AreEqual(15 * ReverseKind.Rate, credit.BaseAmount, "the kind's own rate pays its units");
    }

    [TestMethod]
    public async Task ARetriedAttemptResumesFromTheLastCheckpoint()
    {
        var done = await Pool.WaitAsync((await Pool.SubmitAsync(ReverseKind.Job("checkpoint", failAfterStep: 4))).Id, TimeSpan.FromMinutes(1));

        Assert.AreEqual(JobStatus.Succeeded, done.Status, done.StatusMessage);
        Assert.AreEqual(2, done.Attempts.Count);
        Assert.AreEqual("InvalidOperationException: injected failure after step 4", done.Attempts[0].Outcome);
        var output = (ReverseOutput)done.Result!.Output;
        Assert.AreEqual("tniopkcehc", output.Reversed);
        Assert.AreEqual(4, output.ResumedFrom, "the second attempt started from the first one's last checkpoint");
        Assert.AreEqual((10L, 2), (done.Checkpoint!.Step, done.Checkpoint.Attempt));
    }

    [TestMethod]
    public async Task ACancelledJobKeepsItsLastCheckpointAndWhatItStreamed()
    {
        var submitted = await Pool.SubmitAsync(ReverseKind.Job("a long text to reverse slowly", stepDelayMs: 150));
        var deadline = DateTime.UtcNow.AddSeconds(30);
        JobView view;
        while ((view = await Pool.GetAsync(submitted.Id)).Checkpoint is not { Step: >= 3 })
        {
            Assert.IsTrue(DateTime.UtcNow < deadline, "no checkpoint was stored");
            await Task.Delay(50);
        }

        var cancelled = await Pool.CancelAsync(submitted.Id, "enough");

        Assert.AreEqual(JobStatus.Cancelled, cancelled.Status);
        var checkpoint = cancelled.Checkpoint!;
        var saved = System.Text.Encoding.UTF8.GetString(await Pool.ReadArtifactAsync(checkpoint.Artifact));
        Assert.AreEqual(checkpoint.Step, saved.Length);
        StringAssert.StartsWith("ylwols esrever ot txet gnol a", saved);
        var partial = (ReverseOutput)cancelled.Result!.Output;
        Assert.IsTrue(cancelled.Result.Partial);
        StringAssert.StartsWith("ylwols esrever ot txet gnol a", partial.Reversed);
        Assert.IsTrue(partial.Reversed.Length >= 3);
    }

    [TestMethod]
    public async Task BadInputOfTheKindIsRefusedNamingTheFieldAndNothingIsStored()
    {
        var id = Guid.NewGuid();
        var error = await Assert.ThrowsExactlyAsync<JobValidationException>(() => Pool.SubmitAsync(ReverseKind.Job(""), id));
        Assert.AreEqual(("input.text", "must hold 1 to 1000 characters; had 0"), (error.Field, error.Rule));
        await Assert.ThrowsExactlyAsync<KeyNotFoundException>(() => Pool.GetAsync(id));

        var wrongInput = await Assert.ThrowsExactlyAsync<JobValidationException>(() => Pool.SubmitAsync(new JobSpec(ReverseKind.Reverse, ReverseKind.Target, TestModels.Settings())));
        Assert.AreEqual(("input", "must be a ReverseInput for Reverse jobs; was a GenerationSettings"), (wrongInput.Field, wrongInput.Rule));
    }

    [TestMethod]
    public async Task AKindNoSiloRegisteredIsRefusedNamingTheKindsThePoolRuns()
    {
        var error = await Assert.ThrowsExactlyAsync<JobValidationException>(() => Pool.SubmitAsync(new JobSpec(new JobKind("translate"), "anything", new SystemTaskInput())));
        Assert.AreEqual("kind", error.Field);
        Assert.AreEqual("'translate' is not a kind this pool runs; it runs TextGeneration, CodeGeneration, System, DataProcessing, Reverse", error.Rule);
    }

    private static async Task<List<T>> ToListAsync<T>(IAsyncEnumerable<T> items)
    {
        var list = new List<T>();
        await foreach (var item in items)
            list.Add(item);
        return list;
    }
}
