using System.Text.Json;
using PoolAI.Execution;
using PoolAI.Jobs;

namespace PoolAI.Tests.Execution;

/// <summary>Every kind the pool runs today, each submitted through the same engine: a job grain, its queue, an executor grain on the silo that advertises the kind.</summary>
[TestClass]
public sealed class JobKindsTests
{
    [TestMethod]
    public async Task OneJobOfEachBuiltInKindRunsThroughItsExecutor()
    {
        var pool = await SharedPool.ClientAsync();

        var text = await pool.GenerateAsync(TestModels.Shakespeare, TestModels.Settings(maxTokens: 16, seed: 404));
        Assert.AreEqual(JobStatus.Succeeded, text.Status, text.StatusMessage);
        Assert.AreEqual(new PoolAI.Models.TextGenerator(TestModels.ShakespeareModel).Generate(TestModels.Settings(maxTokens: 16, seed: 404)).Text, text.Result!.Text!.Text);
        Assert.AreEqual(new JobProgress(16, 16, "tokens"), text.Progress);

        var noop = await pool.RunSystemTaskAsync(SystemTasks.Noop);
        Assert.AreEqual(JobStatus.Succeeded, noop.Status, noop.StatusMessage);
        Assert.AreEqual(new SystemTaskOutput(string.Empty, []), noop.Result!.Output);

        var probe = await pool.RunSystemTaskAsync(SystemTasks.Probe, new Dictionary<string, string> { ["tokens"] = "8" });
        Assert.AreEqual(JobStatus.Succeeded, probe.Status, probe.StatusMessage);
        var output = (SystemTaskOutput)probe.Result!.Output;
        var report = output.Artifacts.Single();
        Assert.AreEqual(("probe.json", "application/json"), (report.Name, report.MediaType));
        CollectionAssert.AreEqual(new[] { report }, probe.Artifacts!.ToArray());
        using var json = JsonDocument.Parse(await pool.ReadArtifactAsync(report));
        var model = json.RootElement.GetProperty("models").EnumerateArray().Single();
        Assert.AreEqual(TestModels.Shakespeare, model.GetProperty("model").GetString());
        Assert.AreEqual(8, model.GetProperty("tokens").GetInt32());
        Assert.IsTrue(model.GetProperty("tokens_per_second").GetDouble() > 0);
        Assert.AreEqual(Environment.ProcessorCount, json.RootElement.GetProperty("cores").GetInt32());
        Assert.AreEqual("ok", json.RootElement.GetProperty("libraries").GetProperty("status").GetString());
        StringAssert.StartsWith(output.Summary, $"probe of {probe.Attempts.Single().Silo}: {Environment.ProcessorCount} cores, cpu; shakespeare-char ");

        foreach (var job in new[] { text, noop, probe })
            Assert.AreEqual(SharedPool.WorkerId, job.Attempts.Single().Worker, $"{job.Spec.Kind} ran on the pool's miner");
    }

    [TestMethod]
    public async Task SystemTaskParametersAreCheckedByTheirTask()
    {
        var pool = await SharedPool.ClientAsync();
        var tooMany = await Assert.ThrowsExactlyAsync<JobValidationException>(() => pool.RunSystemTaskAsync(SystemTasks.Probe, new Dictionary<string, string> { ["tokens"] = "513" }));
        Assert.AreEqual(("input.parameters.tokens", "must be an integer between 1 and 512; was '513'"), (tooMany.Field, tooMany.Rule));
        var unknown = await Assert.ThrowsExactlyAsync<JobValidationException>(() => pool.RunSystemTaskAsync(SystemTasks.Noop, new Dictionary<string, string> { ["x"] = "1" }));
        Assert.AreEqual(("input.parameters.x", "is not a parameter of task noop, which takes none"), (unknown.Field, unknown.Rule));
        var task = await Assert.ThrowsExactlyAsync<JobValidationException>(() => pool.RunSystemTaskAsync("defrag"));
        Assert.AreEqual(("model", "'defrag' is not a system task; known: noop, probe, migrate, mirror"), (task.Field, task.Rule));
    }

    [TestMethod]
    public async Task AWaiterThatStopsWaitingCancelsItsJob()
    {
        var pool = await SharedPool.ClientAsync();
        // No miner of the shared pool has a GPU: the job waits in its queue until it is cancelled.
        var submitted = await pool.SubmitAsync(JobSpec.SystemTask(SystemTasks.Noop, requester: "impatient") with { Requirements = new JobRequirements("cuda") });
        using var patience = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));

        await Assert.ThrowsAsync<OperationCanceledException>(() => pool.WaitOrCancelAsync(submitted.Id, "the requester stopped waiting", patience.Token));

        var view = await pool.GetAsync(submitted.Id);
        Assert.AreEqual((JobStatus.Cancelled, "cancelled: the requester stopped waiting", "impatient"), (view.Status, view.StatusMessage, view.Spec.Requester));
    }

    [TestMethod]
    public void ExecutorKeysAndQueueKeysNameKindAndTarget()
    {
        Assert.AreEqual("TextGeneration/shakespeare-char", ExecutorKeys.For(JobKind.TextGeneration, "shakespeare-char"));
        Assert.AreEqual((JobKind.System, "noop", (string?)"S127.0.0.1:11111:1"), ExecutorKeys.Parse(ExecutorKeys.Pinned(JobKind.System, "noop", "S127.0.0.1:11111:1")));
        Assert.AreEqual((JobKind.TextGeneration, "shakespeare-char"), JobQueueKeys.Parse("TextGeneration/shakespeare-char"));
        Assert.AreEqual((JobKind.TextGeneration, "shakespeare-char"), JobQueueKeys.Parse("shakespeare-char"), "a queue keyed by model alone is that model's text queue");
        Assert.AreEqual((JobKind.System, "noop"), JobQueueKeys.Parse("noop"));
    }

    [TestMethod]
    public void KindNamesAreCanonicalWhateverTheSpelling()
    {
        Assert.AreEqual(JobKind.TextGeneration, new JobKind("text-generation"));
        Assert.AreEqual(JobKind.TextGeneration, new JobKind("TEXT_GENERATION"));
        Assert.AreEqual("System", new JobKind("system").Name);
        Assert.AreEqual("Reverse", new JobKind("Reverse").Name);
        Assert.AreEqual(JobKind.TextGeneration, default(JobKind), "the enum's 0 was TextGeneration");
        Assert.IsFalse(JobKind.TryParse("9lives", out _, out var error));
        StringAssert.StartsWith(error, "must be a kind name (letters and digits, starting with a letter, at most 64; for example TextGeneration, ");
    }
}
