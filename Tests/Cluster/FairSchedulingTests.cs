using PoolAI.Client.Sdk;
using PoolAI.Jobs;

namespace PoolAI.Tests.Cluster;

/// <summary>Fairness between requesters and the per-requester cap, on a one-silo pool.</summary>
[TestClass]
[DoNotParallelize]
public sealed class FairSchedulingTests
{
    private static JobSpec Spec(string requester, int seed, int tokens = 40) =>
        JobSpec.TextGeneration(TestModels.Shakespeare, TestModels.Settings(maxTokens: tokens, seed: seed)) with { Requester = requester };

    /// <summary>One slot; a requester floods the queue, another sends one job: it runs after at most one more flood job.</summary>
    [TestMethod]
    public async Task AFloodDelaysAnotherRequestersJobByAtMostOneSlot()
    {
        await using var cluster = TestPools.Build(1, _ => TestPools.Configuration("all-in-one", slots: 1));
        await cluster.DeployAsync();
        var pool = new PoolClient(cluster.Client);
        var flood = new List<JobView>();
        // Long enough that most of the flood still waits when the single job comes: the decoder runs thousands of
        // tokens a second, so 40-token jobs would all be done before it.
        for (var i = 0; i < 12; i++)
            flood.Add(await pool.SubmitAsync(Spec("flood", i, tokens: 1000)));
        await Task.Delay(300);
        var single = await pool.SubmitAsync(Spec("single", 100));
        var done = await pool.WaitAsync(single.Id, TimeSpan.FromMinutes(2));
        Assert.AreEqual(JobStatus.Succeeded, done.Status, done.StatusMessage);
        var singleStarted = done.Attempts[0].StartedAt;

        var floodViews = await Task.WhenAll(flood.Select(f => pool.WaitAsync(f.Id, TimeSpan.FromMinutes(3))));
        var startedBetween = floodViews.Count(v => v.Attempts[0].StartedAt > single.CreatedAt && v.Attempts[0].StartedAt < singleStarted);
        Assert.IsTrue(startedBetween <= 1, $"{startedBetween} flood jobs started between the single job's submission and its start");
        Assert.IsTrue(floodViews.Count(v => v.Attempts[0].StartedAt > singleStarted) >= 5, "the single job did not overtake the flood");
    }

    /// <summary>Two slots, a cap of one running job per requester: a requester's jobs never overlap, and another's run beside them.</summary>
    [TestMethod]
    public async Task ARequesterAtItsCapWaitsWhileOthersUseTheFreeSlots()
    {
        await using var cluster = TestPools.Build(1, _ => TestPools.Configuration("all-in-one", slots: 2, extra: new Dictionary<string, string?> { ["PoolAI:Jobs:MaxRunningPerRequester"] = "1" }));
        await cluster.DeployAsync();
        var pool = new PoolClient(cluster.Client);
        var capped = new List<JobView>();
        for (var i = 0; i < 4; i++)
            capped.Add(await pool.SubmitAsync(Spec("capped", i, tokens: 60)));
        var other = await pool.SubmitAsync(Spec("other", 50, tokens: 60));

        var views = await Task.WhenAll(capped.Select(c => pool.WaitAsync(c.Id, TimeSpan.FromMinutes(3))));
        var otherDone = await pool.WaitAsync(other.Id, TimeSpan.FromMinutes(3));
        Assert.IsTrue(views.All(v => v.Status == JobStatus.Succeeded) && otherDone.Status == JobStatus.Succeeded);
        var spans = views.Select(v => (Start: v.Attempts[0].StartedAt, End: v.Attempts[0].EndedAt!.Value)).OrderBy(s => s.Start).ToList();
        for (var i = 1; i < spans.Count; i++)
            Assert.IsTrue(spans[i].Start >= spans[i - 1].End, $"capped jobs {i - 1} and {i} ran at once");
        Assert.IsTrue(otherDone.Attempts[0].StartedAt < spans[^1].Start, "the other requester's job waited behind the capped requester");
    }
}
