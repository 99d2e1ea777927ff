using Orleans.TestingHost;
using PoolAI.Client.Sdk;
using PoolAI.Jobs;
using PoolAI.Models;

namespace PoolAI.Tests.Cluster;

/// <summary>
/// The result cache on its own one-silo cluster (the shared one runs with the cache off): every successful job is
/// verified here (<c>VerificationShare</c> 1), so a served-from-cache job that started a verification would show.
/// Each test uses its own random seed, so tests do not hit each other's entries.
/// </summary>
[TestClass]
[DoNotParallelize]
public sealed class ResultCacheTests
{
    private const string Worker = "cache-test-worker";
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(2);
    private static InProcessTestCluster _cluster = null!;

    private static PoolClient Pool => new(_cluster.Client);

    [ClassInitialize]
    public static async Task Start(TestContext context)
    {
        var extra = new Dictionary<string, string?>
        {
            ["PoolAI:Jobs:ResultCacheTimeToLive"] = "1.00:00:00",
            ["PoolAI:Rewards:VerificationShare"] = "1",
        };
        _cluster = TestPools.Build(1, _ => TestPools.Configuration("all-in-one", slots: 2, workerId: Worker, extra: extra));
        await _cluster.DeployAsync();
    }

    [ClassCleanup]
    public static async Task Stop() => await _cluster.DisposeAsync();

    private static GenerationSettings FreshSettings(int maxTokens = 30) =>
        TestModels.Settings(maxTokens: maxTokens, seed: Random.Shared.NextInt64(1_000_000, long.MaxValue));

    [TestMethod]
    public async Task AnIdenticalRequestIsServedFromTheCacheWithNoAttemptNoCreditAndNoVerification()
    {
        var settings = FreshSettings();
        var first = await Pool.GenerateAsync(TestModels.Shakespeare, settings);
        Assert.AreEqual(JobStatus.Succeeded, first.Status, first.StatusMessage);
        var balance = (await Pool.GetRewardsAsync(Worker)).Balance;

        var second = await Pool.SubmitAsync(JobSpec.TextGeneration(TestModels.Shakespeare, settings));

        Assert.AreEqual(JobStatus.Succeeded, second.Status, "a cached job is done as it is accepted");
        Assert.AreEqual(0, second.Attempts.Count);
        Assert.AreEqual(first.Result!.Text!.Text, second.Result!.Text!.Text);
        Assert.AreEqual(new TextGenerator(TestModels.ShakespeareModel).Generate(settings).Text, second.Result.Text!.Text);
        Assert.IsTrue(second.Result.Cached);
        Assert.AreEqual(first.Id, second.Result.CachedFrom);
        Assert.IsFalse(first.Result.Cached);
        Assert.AreEqual($"served from the result cache: job {first.Id} ran the same model checkpoint, settings and seed", second.StatusMessage);
        Assert.AreEqual(second.Result.Text!.Text, string.Concat(await ToListAsync(Pool.StreamTextAsync(second.Id))));

        var history = await Pool.GetRewardHistoryAsync(Worker, limit: 1000);
        Assert.AreEqual(1, history.Entries.Count(e => e.JobId == first.Id));
        Assert.AreEqual(0, history.Entries.Count(e => e.JobId == second.Id));
        Assert.AreEqual(balance, (await Pool.GetRewardsAsync(Worker)).Balance);
        Assert.AreEqual(1, (await Pool.GetVerificationAsync(first.Id)).Checks.Count, "the worker's own job is verified");
        Assert.AreEqual(0, (await Pool.GetVerificationAsync(second.Id)).Checks.Count, "no worker's output to verify");
    }

    [TestMethod]
    public async Task AJobThatOptsOutRunsAgain()
    {
        var settings = FreshSettings();
        var first = await Pool.GenerateAsync(TestModels.Shakespeare, settings);

        var again = await Pool.GenerateAsync(TestModels.Shakespeare, settings, noCache: true);

        Assert.AreEqual(JobStatus.Succeeded, again.Status, again.StatusMessage);
        Assert.AreEqual("succeeded", again.Attempts.Single().Outcome);
        Assert.IsFalse(again.Result!.Cached);
        Assert.AreEqual(first.Result!.Text!.Text, again.Result.Text!.Text);
        Assert.AreEqual(1, (await Pool.GetRewardHistoryAsync(Worker, limit: 1000)).Entries.Count(e => e.JobId == again.Id));
    }

    [TestMethod]
    public async Task ADifferentSeedOrSettingMisses()
    {
        var settings = FreshSettings();
        await Pool.GenerateAsync(TestModels.Shakespeare, settings);

        GenerationSettings[] variants =
        [
            settings with { Seed = settings.Seed - 1 },
            settings with { MaxTokens = settings.MaxTokens + 1 },
            settings with { Temperature = 0.5f },
            settings with { TopK = 10 },
            settings with { TopP = 0.9f },
            settings with { Prompt = "JULIET:" },
            settings with { Stop = ["\n"] },
        ];
        foreach (var variant in variants)
        {
            var done = await Pool.GenerateAsync(TestModels.Shakespeare, variant);
            Assert.AreEqual(JobStatus.Succeeded, done.Status, done.StatusMessage);
            Assert.IsFalse(done.Result!.Cached, variant.ToString());
            Assert.AreEqual(1, done.Attempts.Count, variant.ToString());
        }
    }

    [TestMethod]
    public async Task ACheckJobOrAJobExcludingWorkersNeverReadsTheCache()
    {
        var settings = FreshSettings();
        var first = await Pool.GenerateAsync(TestModels.Shakespeare, settings);
        JobSpec[] specs =
        [
            JobSpec.TextGeneration(TestModels.Shakespeare, settings) with { Verifies = Guid.NewGuid() },
            JobSpec.TextGeneration(TestModels.Shakespeare, settings) with { ExcludedWorkers = ["some-other-worker"] },
        ];
        foreach (var spec in specs)
        {
            var submitted = await Pool.SubmitAsync(spec);
            var done = await Pool.WaitAsync(submitted.Id, Patience);
            Assert.AreEqual(JobStatus.Succeeded, done.Status, done.StatusMessage);
            Assert.IsFalse(done.Result!.Cached);
            Assert.AreEqual(Worker, done.Attempts.Single().Worker);
            Assert.AreEqual(first.Result!.Text!.Text, done.Result.Text!.Text);
        }
    }

    private static async Task<List<string>> ToListAsync(IAsyncEnumerable<string> items)
    {
        var list = new List<string>();
        await foreach (var item in items)
            list.Add(item);
        return list;
    }
}
