using Microsoft.Data.Sqlite;
using PoolAI.Client.Sdk;
using PoolAI.Jobs;
using PoolAI.Models;

namespace PoolAI.Tests.Storage;

/// <summary>
/// A pool store written before job kinds had typed inputs and results (<c>Tests/Data/legacy-pool-v1.db</c>, see the
/// README beside it) opened with today's code: what was stored then reads back as it was, and the job that was waiting
/// in it runs.
/// </summary>
[TestClass]
[DoNotParallelize]
public sealed class LegacyPoolUpgradeTests
{
    private static readonly Guid Succeeded = Guid.Parse("11111111-1111-1111-1111-111111111111");
    private static readonly Guid Noop = Guid.Parse("22222222-2222-2222-2222-222222222222");
    private static readonly Guid Cancelled = Guid.Parse("33333333-3333-3333-3333-333333333333");
    private static readonly Guid Waiting = Guid.Parse("44444444-4444-4444-4444-444444444444");

    [TestMethod]
    public async Task JobsLedgersAndIndexesStoredBeforeTypedKindsReadBackAndTheWaitingJobRuns()
    {
        var file = Path.Combine(Path.GetTempPath(), $"poolai-legacy-{Guid.NewGuid():N}.db");
        File.Copy(Path.Combine(AppContext.BaseDirectory, "Data", "legacy-pool-v1.db"), file);
        try
        {
            await using var cluster = TestPools.Build(1, _ => TestPools.Configuration("all-in-one", storage: "sqlite", connectionString: $"Data Source={file}", workerId: "legacy-worker"), serviceId: "poolai-legacy-fixture");
            await cluster.DeployAsync();
            var pool = new PoolClient(cluster.Client);

            var text = await pool.GetAsync(Succeeded);
            Assert.AreEqual(JobStatus.Succeeded, text.Status);
            Assert.AreEqual(JobKind.TextGeneration, text.Spec.Kind);
            Assert.AreEqual(TestModels.Shakespeare, text.Spec.Model);
            Assert.AreEqual(2, text.Spec.Priority);
            Assert.AreEqual("legacy-requester", text.Spec.Requester);
            var settings = (GenerationSettings)text.Spec.Input!;
            Assert.AreEqual(("ROMEO:", 24, 0.8f, 7L), (settings.Prompt, settings.MaxTokens, settings.Temperature, settings.Seed));
            CollectionAssert.AreEqual(new[] { "\n\n" }, settings.Stop!.ToArray());
            Assert.AreEqual(new TextOutput("\nI'll go you. Saint Tyba", 24, "length"), text.Result!.Output);
            Assert.AreEqual("legacy-worker", text.Attempts.Single().Worker);
            Assert.AreEqual("succeeded", text.Attempts.Single().Outcome);

            var noop = await pool.GetAsync(Noop);
            Assert.AreEqual((JobStatus.Succeeded, JobKind.System, SystemTasks.Noop), (noop.Status, noop.Spec.Kind, noop.Spec.Model));
            Assert.IsInstanceOfType<SystemTaskInput>(noop.Spec.Input, "a system job stored without input reads as an empty one");

            var cancelled = await pool.GetAsync(Cancelled);
            Assert.AreEqual(JobStatus.Cancelled, cancelled.Status);
            Assert.AreEqual("cancelled: legacy fixture", cancelled.StatusMessage);
            Assert.AreEqual("cuda", cancelled.Spec.Requirements!.Device);

            // Waiting in the queue keyed by its model alone: that queue is woken at start and runs it on today's pool.
            var ran = await pool.WaitAsync(Waiting, TimeSpan.FromMinutes(1));
            Assert.AreEqual(JobStatus.Succeeded, ran.Status, ran.StatusMessage);
            var waitingSettings = (GenerationSettings)ran.Spec.Input!;
            Assert.AreEqual(new TextGenerator(TestModels.ShakespeareModel).Generate(waitingSettings).Text, ran.Result!.Text!.Text);
            Assert.AreEqual(-3, ran.Spec.Priority);

            var ledger = await pool.GetRewardHistoryAsync("legacy-worker", limit: 100);
            var legacyCredit = ledger.Entries.Single(e => e.JobId == Succeeded);
            Assert.AreEqual(JobKind.TextGeneration, legacyCredit.JobKind);
            Assert.AreEqual(24, legacyCredit.WorkUnits);

            var (listed, _, _) = await pool.ListAsync("legacy-requester", new JobQuery(Limit: 10));
            CollectionAssert.AreEquivalent(new[] { Succeeded, Noop, Cancelled, Waiting }, listed.Select(j => j.Id).ToArray());
            var (systemJobs, _, _) = await pool.ListAsync("legacy-requester", new JobQuery(Kind: JobKind.System));
            Assert.AreEqual(Noop, systemJobs.Single().Id, "index entries stored with the kind enum filter by kind");
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            foreach (var path in new[] { file, file + "-wal", file + "-shm" })
                File.Delete(path);
        }
    }
}
