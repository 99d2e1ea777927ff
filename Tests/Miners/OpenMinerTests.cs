using Grpc.Core;
using PoolAI.Benchmarks.Failover;
using PoolAI.Jobs;
using PoolAI.Miners;
using PoolAI.Miners.Channel;

namespace PoolAI.Tests.Miners;

/// <summary>
/// Open miners in real processes: a gateway hosting a coordinator-only pool, an honest open miner started as its
/// README line says, and miners written by hand that cheat. Nothing an open miner holds or sends reaches past its own
/// leases; the honest miner's jobs all finish, each paid once.
/// </summary>
[TestClass]
public sealed class OpenMinerTests
{
    private static OpenMinerPool _pool = null!;
    private static PoolProcess _honest = null!;
    private static string _honestWorker = null!;

    [ClassInitialize]
    public static async Task StartAsync(TestContext context)
    {
        _pool = await OpenMinerPool.StartAsync();
        var (id, key) = await _pool.KeyAsync("miner", "honest");
        _honestWorker = OpenMiners.WorkerOf(id);
        _honest = await _pool.StartMinerAsync(key);
    }

    [ClassCleanup]
    public static async Task StopAsync()
    {
        if (_pool is not null)
            await _pool.DisposeAsync();
    }

    [TestMethod]
    public async Task AnOpenMinerRunsTheJobsItIsLeasedAndTheCoordinatorPaysItOncePerJob()
    {
        var jobs = new List<JobView>();
        for (var i = 0; i < 3; i++)
            jobs.Add(await _pool.Pool.SubmitAsync(JobSpec.TextGeneration(TestModels.Shakespeare, TestModels.Settings(maxTokens: 20, seed: 100 + i))));
        foreach (var submitted in jobs)
        {
            var job = await _pool.Pool.WaitAsync(submitted.Id, TimeSpan.FromMinutes(2));
            Assert.AreEqual(JobStatus.Succeeded, job.Status, $"{job.StatusMessage}\n{_honest.Log}");
            Assert.AreEqual(20, job.Result!.Text!.TokensGenerated);
            var attempt = job.Attempts[^1];
            Assert.AreEqual(OpenMiners.SiloOf(_honestWorker), attempt.Silo, "the placement names the open miner");
            Assert.AreEqual(_honestWorker, attempt.Worker);
        }

        var history = await WaitForCreditsAsync(_honestWorker, jobs.Select(j => j.Id));
        foreach (var job in jobs)
            Assert.AreEqual(1, history.Count(e => e.JobId == job.Id && e.Total > 0), $"job {job.Id} is paid once");
    }

    [TestMethod]
    public async Task AWrongRevokedOrNonMinerKeyAndABadRegistrationAreRefusedNamingTheFieldAndTheRule()
    {
        var (_, developer) = await _pool.KeyAsync("developer");
        var (revokedId, revoked) = await _pool.KeyAsync("miner");
        await _pool.Pool.RevokeApiKeyAsync(revokedId);
        var (_, miner) = await _pool.KeyAsync("miner");

        await AssertRefusedAsync("pai_000000000000_notakey", RawMiner.Registration(), StatusCode.Unauthenticated, null);
        await AssertRefusedAsync(revoked, RawMiner.Registration(), StatusCode.Unauthenticated, null);
        await AssertRefusedAsync(developer, RawMiner.Registration(), StatusCode.PermissionDenied, "role 'miner'");
        await AssertRefusedAsync(miner, RawMiner.Registration(slots: 10_000), StatusCode.InvalidArgument, "register.slots: must be between 1 and 64; was 10000");
        await AssertRefusedAsync(miner, RawMiner.Registration(device: "tpu"), StatusCode.InvalidArgument, "register.device: must be 'cpu' or 'cuda'; was 'tpu'");
        await AssertRefusedAsync(miner, RawMiner.Registration(models: "gpt-9"), StatusCode.InvalidArgument, "register.models: model 'gpt-9' is not one the pool serves");
        await using (var early = await RawMiner.ConnectAsync(_pool, miner, register: null))
        {
            await early.SendAsync(new MinerMessage { Heartbeat = new Heartbeat() });
            var ended = await early.EndedAsync(TimeSpan.FromSeconds(30));
            Assert.AreEqual(StatusCode.InvalidArgument, ended?.StatusCode);
            StringAssert.Contains(ended!.Status.Detail, "register: must be the first message");
        }

        // Nothing changed in the pool: the refused miners are nowhere in its capacity, and the honest one still works.
        var job = await _pool.Pool.GenerateAsync(TestModels.Shakespeare, TestModels.Settings(maxTokens: 5, seed: 9));
        Assert.AreEqual(JobStatus.Succeeded, job.Status);
        Assert.AreEqual(_honestWorker, job.Attempts[^1].Worker);
    }

    private static async Task AssertRefusedAsync(string key, Register register, StatusCode status, string? detail)
    {
        await using var miner = await RawMiner.ConnectAsync(_pool, key, register);
        var ended = await miner.EndedAsync(TimeSpan.FromSeconds(30));
        Assert.IsNull(miner.Registered, "the pool must not register it");
        Assert.AreEqual(status, ended?.StatusCode, ended?.Status.Detail);
        if (detail is not null)
            StringAssert.Contains(ended!.Status.Detail, detail);
    }

    private static async Task<IReadOnlyList<PoolAI.Rewards.RewardEntry>> WaitForCreditsAsync(string worker, IEnumerable<Guid> jobs)
    {
        var wanted = jobs.ToHashSet();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            var history = (await _pool.Pool.GetRewardHistoryAsync(worker, limit: 200)).Entries;
            if (wanted.All(id => history.Any(e => e.JobId == id)) || DateTime.UtcNow > deadline)
                return history;
            await Task.Delay(200);
        }
    }
}
