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
        // The result cache on: an open miner's result must not be served to anyone else from it.
        _pool = await OpenMinerPool.StartAsync(new Dictionary<string, string> { ["PoolAI__Jobs__ResultCacheTimeToLive"] = "01:00:00" });
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

        // The same request again runs again: an open miner's result is its requester's alone, never a cache entry.
        var again = await _pool.Pool.WaitAsync((await _pool.Pool.SubmitAsync(JobSpec.TextGeneration(TestModels.Shakespeare, TestModels.Settings(maxTokens: 20, seed: 100)))).Id, TimeSpan.FromMinutes(1));
        Assert.AreEqual(JobStatus.Succeeded, again.Status);
        Assert.IsFalse(again.Result!.Cached, "served from the cache");
        Assert.AreEqual(1, again.Attempts.Count);
    }

    [TestMethod]
    public async Task AJobMarkedTrustedNeverReachesAnOpenMinerAndSaysWhyItWaits()
    {
        var trusted = await _pool.Pool.SubmitAsync(JobSpec.TextGeneration(TestModels.Shakespeare, TestModels.Settings(maxTokens: 5, seed: 500)) with { Trust = JobTrust.Trusted });
        var open = await _pool.Pool.SubmitAsync(JobSpec.TextGeneration(TestModels.Shakespeare, TestModels.Settings(maxTokens: 5, seed: 501)));
        Assert.AreEqual(JobTrust.Open, open.Spec.Trust, "the pool's default is recorded with the job");
        Assert.AreEqual(JobStatus.Succeeded, (await _pool.Pool.WaitAsync(open.Id, TimeSpan.FromMinutes(1))).Status);

        await Task.Delay(TimeSpan.FromSeconds(2));
        var waiting = await _pool.Pool.GetAsync(trusted.Id);
        Assert.AreEqual(JobStatus.Queued, waiting.Status, "only open miners serve the model here");
        Assert.AreEqual(0, waiting.Attempts.Count, "it was never leased");
        StringAssert.Contains(waiting.StatusMessage, "trusted silos only");
        await _pool.Pool.CancelAsync(trusted.Id, "test over");

        // Over HTTP the field is spelt as its values, and anything else is refused naming it.
        var (_, developer) = await _pool.KeyAsync("developer");
        using var http = new HttpClient { BaseAddress = _pool.HttpAddress };
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", developer);
        using var accepted = await http.PostAsync("api/jobs", System.Net.Http.Json.JsonContent.Create(new { prompt = "ROMEO:", max_tokens = 3, trust = "trusted" }));
        var body = await accepted.Content.ReadAsStringAsync();
        Assert.AreEqual(System.Net.HttpStatusCode.Accepted, accepted.StatusCode, body);
        StringAssert.Contains(body, "\"trust\":\"Trusted\"");
        await _pool.Pool.CancelAsync(Guid.Parse(System.Text.Json.JsonDocument.Parse(body).RootElement.GetProperty("id").GetString()!), "test over");
        using var refused = await http.PostAsync("api/jobs", System.Net.Http.Json.JsonContent.Create(new { prompt = "ROMEO:", trust = "maybe" }));
        var problem = await refused.Content.ReadAsStringAsync();
        Assert.AreEqual(System.Net.HttpStatusCode.BadRequest, refused.StatusCode, problem);
        StringAssert.Contains(problem, "trust: must be 'open' or 'trusted'");
        using var numbered = await http.PostAsync("api/jobs", System.Net.Http.Json.JsonContent.Create(new { prompt = "ROMEO:", trust = 1 }));
        Assert.AreEqual(System.Net.HttpStatusCode.BadRequest, numbered.StatusCode, "an enum's position is not one of its names");
        using var spelt = await http.PostAsync("api/jobs", new StringContent("""{"prompt": "ROMEO:", "trust": "1"}""", System.Text.Encoding.UTF8, "application/json"));
        Assert.AreEqual(System.Net.HttpStatusCode.BadRequest, spelt.StatusCode, await spelt.Content.ReadAsStringAsync());
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

        // The real miner, started with the revoked key, says why and exits 2.
        using (var refusedMiner = PoolProcess.Start("poolai.dll", PoolProcess.FreePort(), PoolProcess.FreePort(), new Dictionary<string, string>(),
            "silo", "--role", "miner", "--pool", _pool.ChannelAddress.ToString(), "--key", revoked))
        {
            Assert.AreEqual(2, await refusedMiner.WaitForExitAsync(TimeSpan.FromMinutes(1)), refusedMiner.Log);
            StringAssert.Contains(refusedMiner.Log, "refused this miner: key: the pool does not know this key, or it was revoked");
        }

        // Nothing changed in the pool: the refused miners are nowhere in its capacity, and the honest one still works.
        var job = await _pool.Pool.GenerateAsync(TestModels.Shakespeare, TestModels.Settings(maxTokens: 5, seed: 9));
        Assert.AreEqual(JobStatus.Succeeded, job.Status);
        Assert.AreEqual(_honestWorker, job.Attempts[^1].Worker);
    }

    [TestMethod]
    public async Task ACheatingMinerIsRefusedAtEveryTurnAndTheHonestMinersJobsFinishEachPaidOnce()
    {
        var (cheatId, cheatKey) = await _pool.KeyAsync("miner", "cheat");
        var cheatWorker = OpenMiners.WorkerOf(cheatId);
        // It claims a GPU, so the jobs that require one are leased to it alone; the honest CPU miner's jobs require a CPU.
        await using var cheat = await RawMiner.ConnectAsync(_pool, cheatKey, RawMiner.Registration(device: "cuda", slots: 2, memoryMb: 50_000));
        Assert.AreEqual(cheatWorker, cheat.Registered?.Worker, "the worker is named after the key, not chosen by the miner");

        var honestJobs = new List<JobView>();
        for (var i = 0; i < 4; i++)
            honestJobs.Add(await _pool.Pool.SubmitAsync(TextJob(seed: 200 + i, device: "cpu")));
        var target = await _pool.Pool.SubmitAsync(TextJob(seed: 300, device: "cuda", memoryMb: 50_000));
        try
        {
            await CheatAsync(cheat, cheatKey, cheatWorker, target, honestJobs);
        }
        finally
        {
            await CancelQuietlyAsync(target.Id);
        }
    }

    private static async Task CheatAsync(RawMiner cheat, string cheatKey, string cheatWorker, JobView target, List<JobView> honestJobs)
    {

        // 1. A result claiming more tokens than the job allowed: refused, a suspicion, the attempt fails.
        var first = (await cheat.NextAsync(m => m.BodyCase == PoolMessage.BodyOneofCase.Lease && m.Lease.Job == target.Id.ToString(), TimeSpan.FromSeconds(30)))?.Lease;
        Assert.IsNotNull(first, "the GPU job is leased to the miner claiming a GPU");
        Assert.AreEqual(target.Id.ToString(), first.Job);
        StringAssert.Contains(first.InputJson, "ROMEO:", "the leased job's input, and only that, reaches the miner");
        await cheat.SendAsync(Complete(first.Lease_, """{"text":"ROMEO: yes","tokensGenerated":5000,"finishReason":"length"}"""));
        var inflated = await RefusalAsync(cheat, first.Lease_);
        StringAssert.Contains(inflated, "tokens_generated: must be between 0 and the job's max_tokens 10; was 5000");

        // 2. The same result again (a replay): refused, changes nothing.
        await cheat.SendAsync(Complete(first.Lease_, """{"text":"ROMEO: yes","tokensGenerated":10,"finishReason":"length"}"""));
        StringAssert.Contains(await RefusalAsync(cheat, first.Lease_), "has ended");

        // 3. Messages about a lease it was never given (another miner's job): refused and counted.
        const string forged = "0123456789abcdef0123456789abcdef";
        await cheat.SendAsync(Complete(forged, """{"text":"x","tokensGenerated":1,"finishReason":"stop"}"""));
        StringAssert.Contains(await RefusalAsync(cheat, forged), "never given to this miner");
        await cheat.SendAsync(new MinerMessage { Update = new Update { Lease = forged, Offset = 0, Text = "stolen" } });
        StringAssert.Contains(await RefusalAsync(cheat, forged), "never given to this miner");
        await cheat.SendAsync(new MinerMessage { Renew = new Renew { Lease = forged } });
        StringAssert.Contains(await RefusalAsync(cheat, forged), "never given to this miner");

        // 4. The cheat is kept out of placement for a while after a refused result: the job's next lease goes to another
        // GPU miner, which takes it and stalls. The lease expires, the pool cancels it on that miner, the job waits again.
        var (_, stallerKey) = await _pool.KeyAsync("miner", "staller");
        await using var staller = await RawMiner.ConnectAsync(_pool, stallerKey, RawMiner.Registration(device: "cuda", slots: 1, memoryMb: 50_000));
        var second = (await staller.NextAsync(m => m.BodyCase == PoolMessage.BodyOneofCase.Lease && m.Lease.Job == target.Id.ToString(), TimeSpan.FromSeconds(30)))?.Lease;
        Assert.IsNotNull(second, "the job went back to its queue and was leased again, not to the suspected cheat");
        Assert.AreNotEqual(first.Lease_, second.Lease_, "every attempt has a lease of its own");
        var cancel = await staller.NextAsync(m => m.BodyCase == PoolMessage.BodyOneofCase.Cancel && m.Cancel.Lease == second.Lease_, TimeSpan.FromSeconds(30));
        Assert.IsNotNull(cancel, "a stalled lease is taken back");
        var stalled = await _pool.Pool.GetAsync(target.Id);
        StringAssert.Contains(stalled.Attempts[0].Outcome, "refused: tokens_generated");
        StringAssert.Contains(stalled.Attempts[1].Outcome, "lease expired");
        Assert.AreEqual(OpenMiners.SiloOf(cheatWorker), stalled.Attempts[0].Silo);
        Assert.IsTrue(stalled.Attempts[1].Silo!.StartsWith(OpenMiners.SiloPrefix, StringComparison.Ordinal) && stalled.Attempts[1].Silo != stalled.Attempts[0].Silo);

        // 5. A 100 MB message on another connection of its own ends that stream only.
        var (_, bigKey) = await _pool.KeyAsync("miner", "big");
        await using (var big = await RawMiner.ConnectAsync(_pool, bigKey, RawMiner.Registration(device: "cuda", slots: 1, memoryMb: 1)))
        {
            Assert.IsNotNull(big.Registered);
            await big.SendAsync(new MinerMessage { Update = new Update { Lease = forged, Text = new string('x', 100 * 1024 * 1024) } });
            var ended = await big.EndedAsync(TimeSpan.FromSeconds(60));
            Assert.AreEqual(StatusCode.ResourceExhausted, ended?.StatusCode, ended?.Status.Detail);
        }

        // 6. Bytes that are not a message (after a good registration) end that stream only.
        var garbage = await SendGarbageAsync(bigKey);
        await _pool.Gateway.WaitForLogAsync("the stream broke: CodedInputStream encountered a malformed", TimeSpan.FromSeconds(10));
        Assert.IsTrue(garbage is "reset" || (garbage is not "0" && int.TryParse(garbage, out _)), $"a garbage frame must end the call with an error status; got {garbage}");

        // 7. A second connection with the same key replaces the first: one worker, one connection.
        await using (var again = await RawMiner.ConnectAsync(_pool, cheatKey, RawMiner.Registration(device: "cuda", slots: 2, memoryMb: 1)))
        {
            Assert.AreEqual(cheatWorker, again.Registered?.Worker);
            var replaced = await cheat.EndedAsync(TimeSpan.FromSeconds(15));
            Assert.IsNotNull(replaced, "the earlier connection is closed");
            StringAssert.Contains(replaced.Status.Detail, "replaced");
        }

        // 8. A miner key reads no job over HTTP either.
        using (var http = new HttpClient { BaseAddress = _pool.HttpAddress })
        {
            http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", cheatKey);
            Assert.AreEqual(System.Net.HttpStatusCode.Forbidden, (await http.GetAsync($"api/jobs/{target.Id}")).StatusCode);
        }

        // The honest miner's jobs all finished there, each paid once; the cheat was paid nothing and is suspected.
        foreach (var submitted in honestJobs)
        {
            var job = await _pool.Pool.WaitAsync(submitted.Id, TimeSpan.FromMinutes(2));
            Assert.AreEqual(JobStatus.Succeeded, job.Status, job.StatusMessage);
            Assert.AreEqual(_honestWorker, job.Attempts[^1].Worker);
        }

        var credits = await WaitForCreditsAsync(_honestWorker, honestJobs.Select(j => j.Id));
        foreach (var job in honestJobs)
            Assert.AreEqual(1, credits.Count(e => e.JobId == job.Id && e.Total > 0), $"job {job.Id} is paid once");
        var cheated = await _pool.Pool.GetRewardsAsync(cheatWorker);
        Assert.AreEqual(0m, cheated.Balance, "nothing is paid for refused results");
        Assert.IsTrue(cheated.Suspicions.Any(s => s.Reason.Contains("tokens_generated", StringComparison.Ordinal)), string.Join("; ", cheated.Suspicions.Select(s => s.Reason)));
        Assert.IsTrue(cheated.Suspicions.Any(s => s.Reason.Contains("never given", StringComparison.Ordinal)));
        Assert.AreEqual(4, cheated.Suspicions.Count, "one per cheat: the inflated result and three messages about a forged lease (the replay of an ended lease is not one)");
    }

    [TestMethod]
    public async Task AResultWhoseTextAndTokensDoNotAgreeIsRefused()
    {
        var cases = new (string Output, string Rule)[]
        {
            ("""{"text":"FAKE FAKE FAKE","tokensGenerated":1,"finishReason":"stop"}""", "finish_reason: 'stop' needs a stop sequence, and the job has none"),
            ("""{"text":"abc","tokensGenerated":10,"finishReason":"length"}""", "tokens_generated: 10 is not what 3 characters of text make"),
            ("""{"text":"abcdefghi\u00e9","tokensGenerated":10,"finishReason":"length"}""", "text: holds characters the model cannot produce"),
            ("""{"text":"abcdefghij","tokensGenerated":10,"finishReason":"length","paid":true}""", "output: is not the kind's output record in JSON"),
        };
        for (var i = 0; i < cases.Length; i++)
        {
            // A liar of its own per case: a refused result keeps its miner out of placement for a while.
            var (output, rule) = cases[i];
            var memory = 60_000 + i;
            var (_, key) = await _pool.KeyAsync("miner", $"liar-{i}");
            await using var liar = await RawMiner.ConnectAsync(_pool, key, RawMiner.Registration(device: "cuda", slots: 1, memoryMb: memory));
            var job = await _pool.Pool.SubmitAsync(TextJob(seed: 600 + i, device: "cuda", memoryMb: memory));
            try
            {
                var lease = await liar.NextAsync(m => m.BodyCase == PoolMessage.BodyOneofCase.Lease && m.Lease.Job == job.Id.ToString(), TimeSpan.FromSeconds(30));
                Assert.IsNotNull(lease, rule);
                await liar.SendAsync(Complete(lease.Lease.Lease_, output));
                StringAssert.Contains(await RefusalAsync(liar, lease.Lease.Lease_), rule);
                var view = await _pool.Pool.GetAsync(job.Id);
                Assert.AreNotEqual(JobStatus.Succeeded, view.Status);
                StringAssert.Contains(view.Attempts[0].Outcome, rule);
                Assert.IsFalse(view.Attempts[0].Outcome!.Contains("Exception", StringComparison.Ordinal), view.Attempts[0].Outcome);
            }
            finally
            {
                await CancelQuietlyAsync(job.Id);
            }
        }
    }

    [TestMethod]
    public async Task AMinerThatSignsOffFinishesWhatItRunsAndGetsNothingNew()
    {
        var (id, key) = await _pool.KeyAsync("miner", "leaving");
        await using var miner = await RawMiner.ConnectAsync(_pool, key, RawMiner.Registration(device: "cuda", slots: 2, memoryMb: 80_000));
        var first = await _pool.Pool.SubmitAsync(TextJob(seed: 700, device: "cuda", memoryMb: 80_000));
        var lease = await miner.NextAsync(m => m.BodyCase == PoolMessage.BodyOneofCase.Lease && m.Lease.Job == first.Id.ToString(), TimeSpan.FromSeconds(30));
        Assert.IsNotNull(lease);
        await miner.SendAsync(new MinerMessage { SignOff = new SignOff() });
        await Task.Delay(TimeSpan.FromSeconds(2)); // placement sees it leave within a second
        var second = await _pool.Pool.SubmitAsync(TextJob(seed: 701, device: "cuda", memoryMb: 80_000));
        try
        {
            // The lease it holds still counts: its result is taken and paid.
            await miner.SendAsync(Complete(lease.Lease.Lease_, """{"text":"abcdefghij","tokensGenerated":10,"finishReason":"length"}"""));
            var done = await _pool.Pool.WaitAsync(first.Id, TimeSpan.FromSeconds(30));
            Assert.AreEqual(JobStatus.Succeeded, done.Status, done.StatusMessage);
            Assert.AreEqual(OpenMiners.WorkerOf(id), done.Attempts[^1].Worker);

            Assert.IsNull(await miner.NextAsync(m => m.BodyCase == PoolMessage.BodyOneofCase.Lease, TimeSpan.FromSeconds(3)), "a signed-off miner gets no new lease");
            var waiting = await _pool.Pool.GetAsync(second.Id);
            Assert.AreEqual(JobStatus.Queued, waiting.Status);
            Assert.AreEqual(Workers.WorkerStatus.Offline, (await _pool.Pool.GetWorkerAsync(OpenMiners.WorkerOf(id))).Status);
        }
        finally
        {
            await CancelQuietlyAsync(second.Id);
            await CancelQuietlyAsync(first.Id);
        }
    }

    [TestMethod]
    public async Task AMinerThatSendsNothingIsTakenAsGone()
    {
        var (_, key) = await _pool.KeyAsync("miner", "silent");
        await using var miner = await RawMiner.ConnectAsync(_pool, key, RawMiner.Registration(device: "cuda", slots: 1, memoryMb: 1), heartbeats: false);
        Assert.IsNotNull(miner.Registered);
        var ended = await miner.EndedAsync(TimeSpan.FromSeconds(15)); // 3.5 heartbeat intervals of 1 s here
        Assert.AreEqual(StatusCode.DeadlineExceeded, ended?.StatusCode, ended?.Status.Detail);
        StringAssert.Contains(ended!.Status.Detail, "no message from the miner");
    }

    [TestMethod]
    public async Task ASecondMinerProcessWithTheSameKeyReplacesTheFirstWhichStopsSayingWhy()
    {
        var (_, key) = await _pool.KeyAsync("miner", "twice");
        var first = await _pool.StartMinerAsync(key);
        var second = await _pool.StartMinerAsync(key);
        Assert.AreEqual(2, await first.WaitForExitAsync(TimeSpan.FromMinutes(1)), first.Log);
        StringAssert.Contains(first.Log, "refused this miner: replaced by a newer connection of the same miner");
        await Task.Delay(TimeSpan.FromSeconds(3));
        Assert.IsFalse(second.HasExited, "the newer miner keeps its connection");
        Assert.IsFalse(second.Log.Contains("Lost the pool", StringComparison.Ordinal), second.Log);
        second.Terminate();
        Assert.AreEqual(0, await second.WaitForExitAsync(TimeSpan.FromMinutes(1)), second.Log);
    }

    [TestMethod]
    public async Task RevokingAMinerKeyOrBanningItsWorkerClosesItsChannelWithinFiveSecondsAndRequeuesItsLeases()
    {
        foreach (var ban in new[] { false, true })
        {
            var (id, key) = await _pool.KeyAsync("miner", ban ? "banned" : "revoked");
            var memory = ban ? 90_001 : 90_000;
            await using var miner = await RawMiner.ConnectAsync(_pool, key, RawMiner.Registration(device: "cuda", slots: 1, memoryMb: memory));
            var job = await _pool.Pool.SubmitAsync(TextJob(seed: ban ? 401 : 400, device: "cuda", memoryMb: memory));
            var lease = await miner.NextAsync(m => m.BodyCase == PoolMessage.BodyOneofCase.Lease && m.Lease.Job == job.Id.ToString(), TimeSpan.FromSeconds(30));
            Assert.IsNotNull(lease);
            // Keep the lease alive, as an honest miner would, until the pool closes the channel.
            using var renewing = new CancellationTokenSource();
            var renew = Task.Run(async () =>
            {
                while (!renewing.IsCancellationRequested && await miner.SendAsync(new MinerMessage { Renew = new Renew { Lease = lease.Lease.Lease_ } }))
                    await Task.Delay(500);
            });
            var started = System.Diagnostics.Stopwatch.StartNew();
            if (ban)
                await BanAsync(OpenMiners.WorkerOf(id));
            else
                await _pool.Pool.RevokeApiKeyAsync(id);
            var ended = await miner.EndedAsync(TimeSpan.FromSeconds(10));
            var took = started.Elapsed;
            await renewing.CancelAsync();
            await renew;
            Assert.IsNotNull(ended, "the channel is closed");
            Assert.IsTrue(took < TimeSpan.FromSeconds(5), $"closed after {took.TotalSeconds:0.0} s");
            StringAssert.Contains(ended.Status.Detail, ban ? "banned" : "revoked");
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
            JobView view;
            do
            {
                view = await _pool.Pool.GetAsync(job.Id);
                await Task.Delay(100);
            }
            while (view.Status != JobStatus.Queued && DateTime.UtcNow < deadline);
            Assert.AreEqual(JobStatus.Queued, view.Status, "its lease went back to the queue");
            StringAssert.Contains(view.Attempts[0].Outcome, "lost its connection");
            await CancelQuietlyAsync(job.Id);
        }
    }

    private static async Task BanAsync(string worker)
    {
        var (_, admin) = await _pool.KeyAsync("admin");
        using var http = new HttpClient { BaseAddress = _pool.HttpAddress };
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", admin);
        using var response = await http.PostAsync($"api/admin/workers/{worker}/ban", System.Net.Http.Json.JsonContent.Create(new { reason = "test ban" }));
        Assert.IsTrue(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
    }

    [TestMethod]
    public async Task NewConnectionsAreRateLimitedPerKey()
    {
        var (id, key) = await _pool.KeyAsync("miner", "eager");
        for (var i = 0; i < 12; i++)
        {
            await using var miner = await RawMiner.ConnectAsync(_pool, key, RawMiner.Registration(slots: 1));
            Assert.IsNotNull(miner.Registered, $"connection {i + 1} of the minute's 12");
        }

        await using var thirteenth = await RawMiner.ConnectAsync(_pool, key, RawMiner.Registration(slots: 1));
        var ended = await thirteenth.EndedAsync(TimeSpan.FromSeconds(30));
        Assert.IsNull(thirteenth.Registered);
        Assert.AreEqual(StatusCode.ResourceExhausted, ended?.StatusCode);
        StringAssert.Contains(ended!.Status.Detail, $"connections: key {id} may open 12 connections a minute");
    }

    /// <summary>A text job for the miners of one test: those of its device with at least <paramref name="memoryMb"/> MiB (see <see cref="RawMiner.Registration"/>).</summary>
    private static JobSpec TextJob(long seed, string device, long memoryMb = 0) =>
        new(JobKind.TextGeneration, TestModels.Shakespeare, TestModels.Settings(maxTokens: 10, seed: seed), Requirements: new JobRequirements(device, memoryMb));

    /// <summary>Cancels a job unless it has ended already.</summary>
    private static async Task CancelQuietlyAsync(Guid job)
    {
        try
        {
            await _pool.Pool.CancelAsync(job, "test over");
        }
        catch (JobFinishedException)
        {
        }
    }

    private static MinerMessage Complete(string lease, string outputJson) =>
        new() { Complete = new PoolAI.Miners.Channel.Complete { Lease = lease, OutputJson = outputJson, Concurrency = 1 } };

    private static async Task<string> RefusalAsync(RawMiner miner, string lease)
    {
        var refused = await miner.NextAsync(m => m.BodyCase == PoolMessage.BodyOneofCase.Refused && m.Refused.Lease == lease, TimeSpan.FromSeconds(30));
        Assert.IsNotNull(refused, $"a message about lease {lease} must be refused");
        return refused.Refused.Reason;
    }

    /// <summary>Opens the channel by hand over HTTP/2, sends a good registration and then a frame that is not a message; returns the call's grpc-status.</summary>
    private static async Task<string?> SendGarbageAsync(string key)
    {
        using var http = new HttpClient();
        var register = Google.Protobuf.MessageExtensions.ToByteArray(new MinerMessage { Register = RawMiner.Registration(slots: 1) });
        var body = new MemoryStream();
        body.WriteByte(0);
        body.Write([(byte)(register.Length >> 24), (byte)(register.Length >> 16), (byte)(register.Length >> 8), (byte)register.Length]);
        body.Write(register);
        byte[] garbage = [0x0a, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0x02];
        body.Write([0, 0, 0, 0, (byte)garbage.Length]);
        body.Write(garbage);
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(_pool.ChannelAddress, "poolai.miners.v1.MinerChannel/Connect"))
        {
            Content = new ByteArrayContent(body.ToArray()),
            Version = System.Net.HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/grpc");
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", key);
        request.Headers.TryAddWithoutValidation("TE", "trailers");
        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request);
            await response.Content.ReadAsByteArrayAsync();
        }
        catch (HttpRequestException ex) when (ex.InnerException is System.Net.Http.HttpProtocolException)
        {
            return "reset"; // the server ended the call while the request still had bytes: the stream is reset, as gRPC servers do
        }

        using var _ = response;
        return response.TrailingHeaders.TryGetValues("grpc-status", out var status) ? status.First()
            : response.Headers.TryGetValues("grpc-status", out var early) ? early.First() : $"none (HTTP {(int)response.StatusCode}, headers {response.Headers}, trailers {response.TrailingHeaders})";
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
