using Orleans.TestingHost;
using PoolAI.Client.Sdk;
using PoolAI.Jobs;
using PoolAI.Models;

namespace PoolAI.Tests.Cluster;

/// <summary>Jobs on an all-in-one test cluster (one silo, in-memory storage, two slots).</summary>
[TestClass]
public sealed class JobLifecycleTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(2);

    [TestMethod]
    public async Task SubmittedJobRunsToItsResult()
    {
        var pool = await SharedPool.ClientAsync();
        var settings = TestModels.Settings(maxTokens: 50, seed: 11);
        var submitted = await pool.SubmitAsync(JobSpec.TextGeneration(TestModels.Shakespeare, settings));
        Assert.IsTrue(submitted.Status is JobStatus.Queued or JobStatus.Assigned or JobStatus.Running, submitted.Status.ToString());

        var done = await pool.WaitAsync(submitted.Id, Patience);

        Assert.AreEqual(JobStatus.Succeeded, done.Status, done.StatusMessage);
        Assert.IsNotNull(done.Result);
        Assert.AreEqual(50, done.Result.Text!.TokensGenerated);
        Assert.AreEqual(50, done.Result.Text.Text.Length);
        Assert.AreEqual("length", done.Result.Text.FinishReason);
        var attempt = done.Attempts.Single();
        Assert.AreEqual("succeeded", attempt.Outcome);
        Assert.AreEqual(done.Result.Silo, attempt.Silo);
    }

    [TestMethod]
    public async Task PoolGeneratesExactlyWhatTheModelGeneratesInProcess()
    {
        var pool = await SharedPool.ClientAsync();
        var settings = TestModels.Settings(prompt: "JULIET:", maxTokens: 80, seed: 42, topK: 20, topP: 0.9f);
        var direct = new TextGenerator(TestModels.ShakespeareModel).Generate(settings);

        var first = await pool.GenerateAsync(TestModels.Shakespeare, settings);
        var second = await pool.GenerateAsync(TestModels.Shakespeare, settings);

        Assert.AreEqual(direct.Text, first.Result!.Text!.Text);
        Assert.AreEqual(direct.Text, second.Result!.Text!.Text);
    }

    [TestMethod]
    public async Task StreamedTextAddsUpToTheResult()
    {
        var pool = await SharedPool.ClientAsync();
        var streamed = new System.Text.StringBuilder();
        var pieces = 0;
        var done = await pool.GenerateAsync(TestModels.Shakespeare, TestModels.Settings(maxTokens: 400, seed: 5), text =>
        {
            streamed.Append(text);
            pieces++;
        });
        Assert.AreEqual(JobStatus.Succeeded, done.Status, done.StatusMessage);
        Assert.AreEqual(done.Result!.Text!.Text, streamed.ToString());
        Assert.IsTrue(pieces > 1, "the text arrived in one piece, not streamed");
    }

    [TestMethod]
    public async Task CancelWhileRunningStopsTheJobAndKeepsWhatItGenerated()
    {
        var pool = await SharedPool.ClientAsync();
        var settings = TestModels.Settings(maxTokens: 4096, seed: 17);
        var submitted = await pool.SubmitAsync(JobSpec.TextGeneration(TestModels.Shakespeare, settings));
        var streamed = new System.Text.StringBuilder();
        await using (var stream = pool.StreamTextAsync(submitted.Id).GetAsyncEnumerator())
        {
            while (streamed.Length < 20 && await stream.MoveNextAsync())
                streamed.Append(stream.Current);
        }

        var cancelled = await pool.CancelAsync(submitted.Id, "test");

        Assert.AreEqual(JobStatus.Cancelled, cancelled.Status);
        Assert.AreEqual("cancelled: test", cancelled.StatusMessage);
        Assert.AreEqual("cancelled: test", cancelled.Attempts.Single().Outcome);
        var partial = cancelled.Result!;
        Assert.IsTrue(partial.Partial);
        Assert.AreEqual("cancelled", partial.Text!.FinishReason);
        StringAssert.StartsWith(partial.Text.Text, streamed.ToString(), "the partial result holds what was streamed before the cancel");
        Assert.IsTrue(partial.Text.TokensGenerated >= streamed.Length, $"{partial.Text.TokensGenerated} tokens for {streamed.Length} streamed characters");
        var full = new TextGenerator(TestModels.ShakespeareModel).Generate(settings with { MaxTokens = partial.Text.Text.Length });
        Assert.AreEqual(full.Text, partial.Text.Text, "the partial text is the generation's own beginning");
        var later = await pool.WaitAsync(submitted.Id, TimeSpan.FromSeconds(5));
        Assert.AreEqual(JobStatus.Cancelled, later.Status);
        Assert.AreEqual(partial, later.Result);
    }

    [TestMethod]
    public async Task CancellingAFinishedJobIsAConflictAndChangesNothing()
    {
        var pool = await SharedPool.ClientAsync();
        var done = await pool.GenerateAsync(TestModels.Shakespeare, TestModels.Settings(maxTokens: 5));
        var refused = await Assert.ThrowsExactlyAsync<JobFinishedException>(() => pool.CancelAsync(done.Id, "too late"));
        Assert.AreEqual($"job {done.Id} has finished (Succeeded); it cannot be cancelled", refused.Message);
        Assert.AreEqual(JobStatus.Succeeded, refused.Status);
        var after = await pool.GetAsync(done.Id);
        Assert.AreEqual(JobStatus.Succeeded, after.Status);
        Assert.AreEqual(done.Result, after.Result);
    }

    [TestMethod]
    public async Task BadInputIsRefusedByThePoolNamingTheFieldAndNothingIsStored()
    {
        var pool = await SharedPool.ClientAsync();
        var cases = new (JobSpec Spec, string Field)[]
        {
            (JobSpec.TextGeneration(TestModels.Shakespeare, TestModels.Settings(prompt: "")), "prompt"),
            (JobSpec.TextGeneration(TestModels.Shakespeare, TestModels.Settings(maxTokens: 0)), "max_tokens"),
            (JobSpec.TextGeneration(TestModels.Shakespeare, TestModels.Settings(maxTokens: 5000)), "max_tokens"),
            (JobSpec.TextGeneration(TestModels.Shakespeare, TestModels.Settings(temperature: -1)), "temperature"),
            (JobSpec.TextGeneration(TestModels.Shakespeare, TestModels.Settings(topP: 0)), "top_p"),
            (JobSpec.TextGeneration(TestModels.Shakespeare, TestModels.Settings(topP: 1.5f)), "top_p"),
            (JobSpec.TextGeneration("no-such-model", TestModels.Settings()), "model"),
            (JobSpec.TextGeneration(TestModels.Shakespeare, TestModels.Settings(prompt: "ROMEO: 😀")), "prompt"),
        };
        foreach (var (spec, field) in cases)
        {
            var id = Guid.NewGuid();
            var error = await Assert.ThrowsExactlyAsync<JobValidationException>(() => pool.SubmitAsync(spec, id));
            Assert.AreEqual(field, error.Field, error.Message);
            await Assert.ThrowsExactlyAsync<KeyNotFoundException>(() => pool.GetAsync(id));
        }
    }

    [TestMethod]
    public async Task SubmittingTheSameIdTwiceKeepsTheFirstJob()
    {
        var pool = await SharedPool.ClientAsync();
        var id = Guid.NewGuid();
        var first = await pool.SubmitAsync(JobSpec.TextGeneration(TestModels.Shakespeare, TestModels.Settings(maxTokens: 5, seed: 1)), id);
        var second = await pool.SubmitAsync(JobSpec.TextGeneration(TestModels.Shakespeare, TestModels.Settings(maxTokens: 9, seed: 2)), id);
        Assert.AreEqual(first.Spec, second.Spec);
        Assert.AreEqual(5, (await pool.WaitAsync(id, Patience)).Result!.Text!.TokensGenerated);
    }

    [TestMethod]
    public async Task FinishedJobIsReadBackFromStorageAfterItsActivationIsGone()
    {
        var cluster = await SharedPool.ClusterAsync();
        var pool = new PoolClient(cluster.Client);
        var done = await pool.GenerateAsync(TestModels.Shakespeare, TestModels.Settings(maxTokens: 20));

        var grain = cluster.Client.GetGrain<IJobGrain>(done.Id);
        await cluster.DeactivateAsync(grain);
        var reloaded = await pool.GetAsync(done.Id);

        Assert.AreEqual(JobStatus.Succeeded, reloaded.Status);
        Assert.AreEqual(done.Result, reloaded.Result);
        Assert.AreEqual(done.Attempts.Count, reloaded.Attempts.Count);
    }

    [TestMethod]
    public async Task UnknownJobIdIsNotFound()
    {
        var pool = await SharedPool.ClientAsync();
        await Assert.ThrowsExactlyAsync<KeyNotFoundException>(() => pool.GetAsync(Guid.NewGuid()));
    }
}
