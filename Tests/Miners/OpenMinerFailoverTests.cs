using System.Text;
using PoolAI.Benchmarks.Failover;
using PoolAI.Jobs;
using PoolAI.Miners;

namespace PoolAI.Tests.Miners;

/// <summary>Open miners that die, and what an open miner's process holds.</summary>
[TestClass]
public sealed class OpenMinerFailoverTests
{
    [TestMethod]
    [Timeout(300_000, CooperativeCancellation = true)]
    public async Task AnOpenMinerKilledMidJobLosesNoJobAndNoJobIsPaidTwice()
    {
        await using var pool = await OpenMinerPool.StartAsync();
        var (idA, keyA) = await pool.KeyAsync("miner", "a");
        var (idB, keyB) = await pool.KeyAsync("miner", "b");
        var slots = new Dictionary<string, string> { ["PoolAI__Miner__Slots"] = "4" };
        var minerA = await pool.StartMinerAsync(keyA, slots);
        await pool.StartMinerAsync(keyB, slots);
        var workerA = OpenMiners.WorkerOf(idA);

        var jobs = new List<JobView>();
        for (var i = 0; i < 24; i++)
            jobs.Add(await pool.Pool.SubmitAsync(JobSpec.TextGeneration(TestModels.Shakespeare, TestModels.Settings(maxTokens: 300, seed: 1_000 + i))));

        // Kill A while it runs some of them.
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(1);
        var runningOnA = 0;
        while (runningOnA == 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
            foreach (var job in jobs)
            {
                var view = await pool.Pool.GetAsync(job.Id);
                if (view.Status == JobStatus.Running && view.Attempts[^1].Worker == workerA)
                    runningOnA++;
            }
        }

        Assert.IsTrue(runningOnA > 0, "miner A ran some of the jobs");
        minerA.KillHard();

        var finished = new List<JobView>();
        foreach (var job in jobs)
            finished.Add(await pool.Pool.WaitAsync(job.Id, TimeSpan.FromMinutes(3)));
        Assert.AreEqual(jobs.Count, finished.Count(j => j.Status == JobStatus.Succeeded),
            string.Join("\n", finished.Where(j => j.Status != JobStatus.Succeeded).Select(j => $"{j.Id}: {j.Status} {j.StatusMessage}")));
        var lost = finished.Where(j => j.Attempts.Any(a => a.Worker == workerA && a.Outcome?.Contains("lost its connection", StringComparison.Ordinal) == true)).ToList();
        Assert.IsTrue(lost.Count > 0, "the jobs A was running when it died record why their attempt ended");
        Assert.IsTrue(lost.All(j => j.Attempts[^1].Worker == OpenMiners.WorkerOf(idB)), "and finished on B");

        // Each job is paid once, to the worker whose result it kept.
        var credited = new List<PoolAI.Rewards.RewardEntry>();
        foreach (var worker in new[] { workerA, OpenMiners.WorkerOf(idB) })
            credited.AddRange((await pool.Pool.GetRewardHistoryAsync(worker, limit: 1000)).Entries.Where(e => e.Kind == PoolAI.Rewards.RewardEntryKind.Credit));
        foreach (var job in finished)
        {
            var credits = credited.Where(e => e.JobId == job.Id).ToList();
            Assert.AreEqual(1, credits.Count, $"job {job.Id} is paid once");
            Assert.AreEqual(job.Attempts[^1].Worker, credits[0].Worker);
        }
    }

    [TestMethod]
    [Timeout(300_000, CooperativeCancellation = true)]
    public async Task AnOpenMinerStoppedMidJobSignsOffAndItsUnfinishedJobsAreHandedBackUncounted()
    {
        await using var pool = await OpenMinerPool.StartAsync();
        var (idA, keyA) = await pool.KeyAsync("miner", "a");
        var (idB, keyB) = await pool.KeyAsync("miner", "b");
        var settings = new Dictionary<string, string> { ["PoolAI__Miner__Slots"] = "4", ["PoolAI__Miner__DrainTimeout"] = "00:00:01" };
        var minerA = await pool.StartMinerAsync(keyA, settings);
        await pool.StartMinerAsync(keyB, settings);
        var workerA = OpenMiners.WorkerOf(idA);

        var jobs = new List<JobView>();
        for (var i = 0; i < 48; i++)
            jobs.Add(await pool.Pool.SubmitAsync(JobSpec.TextGeneration(TestModels.Shakespeare, TestModels.Settings(maxTokens: 4000, seed: 2_000 + i))));
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(1);
        while (DateTime.UtcNow < deadline && !(await Task.WhenAll(jobs.Select(j => pool.Pool.GetAsync(j.Id)))).Any(v => v.Status == JobStatus.Running && v.Attempts[^1].Worker == workerA))
            await Task.Delay(100);

        var stopped = DateTime.UtcNow;
        minerA.Terminate(); // SIGTERM, as a service manager stops it
        Assert.AreEqual(0, await minerA.WaitForExitAsync(TimeSpan.FromMinutes(1)), minerA.Log);
        StringAssert.Contains(minerA.Log, "signed off");

        var finished = new List<JobView>();
        foreach (var job in jobs)
            finished.Add(await pool.Pool.WaitAsync(job.Id, TimeSpan.FromMinutes(3)));
        Assert.IsTrue(finished.All(j => j.Status == JobStatus.Succeeded), string.Join("\n", finished.Select(j => $"{j.Status} {j.StatusMessage}")));
        var onA = finished.SelectMany(j => j.Attempts).Where(a => a.Worker == workerA && a.Outcome != "succeeded").ToList();
        Assert.IsTrue(onA.Count > 0, $"A was running some when it stopped at {stopped:HH:mm:ss.fff}: " + string.Join(" | ", finished.SelectMany(j => j.Attempts).Select(a => $"{a.Worker} {a.StartedAt:HH:mm:ss.fff}-{a.EndedAt:HH:mm:ss.fff} {a.Outcome} {a.HandedBack}")));
        Assert.IsTrue(onA.All(a => a.HandedBack), "what A did not finish was handed back, not lost: " + string.Join("; ", onA.Select(a => $"{a.EndedAt:HH:mm:ss.fff} {a.Outcome}")));
        Assert.IsTrue(finished.All(j => j.Attempts[^1].Outcome == "succeeded"));
    }

    [TestMethod]
    public async Task AnOpenMinersProcessHoldsNoDatabaseCredentialAndNoPrivateKey()
    {
        await using var pool = await OpenMinerPool.StartAsync();
        var (_, key) = await pool.KeyAsync("miner", "clean");
        var miner = await pool.StartMinerAsync(key);

        var environment = await File.ReadAllTextAsync($"/proc/{miner.Id}/environ");
        var commandLine = (await File.ReadAllTextAsync($"/proc/{miner.Id}/cmdline")).Replace('\0', ' ');
        var home = environment.Split('\0').Single(v => v.StartsWith("POOLAI_HOME=", StringComparison.Ordinal))["POOLAI_HOME=".Length..];
        var files = new StringBuilder();
        foreach (var path in Directory.Exists(home) ? Directory.EnumerateFiles(home, "*", SearchOption.AllDirectories) : [])
            files.Append(path).Append('\n').Append(await File.ReadAllTextAsync(path)).Append('\n');
        var configuration = await File.ReadAllTextAsync(Path.Combine(AppContext.BaseDirectory, "config", "miner.json"));

        foreach (var (what, text) in new[] { ("environment", environment), ("command line", commandLine), ($"files under {home}", files.ToString()), ("config/miner.json", configuration) })
        {
            foreach (var secret in new[] { "ConnectionString", "Password=", "Username=", "PRIVATE KEY", "CertificatePath", ".pfx", ".p12" })
                Assert.IsFalse(text.Contains(secret, StringComparison.OrdinalIgnoreCase), $"the open miner's {what} holds '{secret}'");
        }

        StringAssert.Contains(commandLine, key, "its own miner key is all it holds");
    }

    [TestMethod]
    public async Task AnOpenMinerWithADatabaseCredentialOrABadPoolKeyOrStorageDoesNotStart()
    {
        var cases = new (string[] Args, Dictionary<string, string> Environment, string Expected)[]
        {
            (["--pool", "http://127.0.0.1:1"], [], "PoolAI:Miner:Key: is required with --pool"),
            (["--pool", "http://127.0.0.1:1", "--key", "hunter2"], [], "PoolAI:Miner:Key: is not a PoolAI key"),
            (["--pool", "ftp://pool", "--key", "pai_0123456789ab_secret"], [], "PoolAI:Miner:Pool: must be the pool gateway's URL"),
            (["--pool", "http://127.0.0.1:1", "--key", "pai_0123456789ab_secret"], new() { ["PoolAI__Database__ConnectionString"] = "Host=db;Password=x" },
                "PoolAI:Database:ConnectionString: must not be set on an open miner"),
            (["--pool", "http://127.0.0.1:1", "--key", "pai_0123456789ab_secret", "--storage", "lots"], [], "PoolAI:Miner:StorageBytes: must be a size from 0 to 1PiB"),
        };
        foreach (var (args, environment, expected) in cases)
        {
            using var miner = PoolProcess.Start("PoolAI.Silo.dll", PoolProcess.FreePort(), PoolProcess.FreePort(), environment, ["--role", "miner", .. args]);
            Assert.AreEqual(2, await miner.WaitForExitAsync(TimeSpan.FromMinutes(1)), miner.Log);
            StringAssert.Contains(miner.Log, expected);
        }
    }
}
