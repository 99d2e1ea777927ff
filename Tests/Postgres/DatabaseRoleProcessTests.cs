using Npgsql;
using PoolAI.Benchmarks.Failover;
using PoolAI.Client.Sdk;
using PoolAI.Jobs;
using PoolAI.Models;
using PoolAI.Tests.Cli;

namespace PoolAI.Tests.Postgres;

/// <summary>A coordinator and a trusted miner, real processes, each connected with its own least-privilege login.</summary>
[TestClass]
[DoNotParallelize]
public sealed class DatabaseRoleProcessTests
{
    [TestMethod]
    public async Task ACoordinatorAndATrustedMinerOnTheirOwnLoginsRunTextJobsToSuccess()
    {
        var admin = await PostgresServer.CreateDatabaseAsync();
        var migrated = await PoolaiProcess.RunAsync("db", "migrate", "--connection", admin);
        Assert.AreEqual(0, migrated.ExitCode, migrated.StandardError);
        var suffix = Guid.NewGuid().ToString("N")[..8];
        var coordinatorLogin = await CreateLoginAsync(admin, $"coordinator_{suffix}", "coordinator");
        var minerLogin = await CreateLoginAsync(admin, $"miner_{suffix}", "miner");

        var cluster = ProcessCluster.On(admin);
        // The coordinator applies the schema itself at start (Database:Migrate=true in config/coordinator.json).
        var coordinator = PoolProcess.StartSilo("coordinator", new Dictionary<string, string>(cluster.CoordinatorEnvironment) { ["PoolAI__Database__ConnectionString"] = coordinatorLogin });
        PoolProcess? miner = null;
        try
        {
            await coordinator.WaitForLogAsync("Application started", TimeSpan.FromMinutes(2));
            miner = PoolProcess.StartSilo("miner", cluster.Miner(new Dictionary<string, string> { ["PoolAI__Database__ConnectionString"] = minerLogin, ["PoolAI__Miner__Slots"] = "2" }));
            await miner.WaitForLogAsync("registered: serves", TimeSpan.FromMinutes(2));

            await using var connection = await PoolConnection.OpenAsync(cluster.Client);
            var settings = Enumerable.Range(0, 6).Select(i => TestModels.Settings(maxTokens: 40, seed: 300 + i)).ToList();
            var done = await Task.WhenAll(settings.Select(s => connection.Client.GenerateAsync(TestModels.Shakespeare, s)));

            for (var i = 0; i < done.Length; i++)
            {
                Assert.AreEqual(JobStatus.Succeeded, done[i].Status, done[i].StatusMessage + coordinator.Log + miner.Log);
                Assert.AreEqual(new TextGenerator(TestModels.ShakespeareModel).Generate(settings[i]).Text, done[i].Result!.Text!.Text);
                StringAssert.StartsWith(done[i].Result!.Silo, $"S127.0.0.1:{miner.SiloPort}:");
            }

            // The miner's reminder service reads its range at start (the first thing a miner without PoolReminder
            // was refused), and membership is read and written all along.
            foreach (var (silo, log) in new[] { ("coordinator", coordinator.Log), ("miner", miner.Log) })
            {
                Assert.IsFalse(log.Contains("42501", StringComparison.Ordinal), $"the {silo} was refused something: {log}");
                Assert.IsFalse(log.Contains("permission denied", StringComparison.OrdinalIgnoreCase), $"the {silo} was refused something: {log}");
            }
        }
        finally
        {
            miner?.Dispose();
            coordinator.Dispose();
        }
    }

    /// <summary>Creates a login with <c>poolai db user create</c>; its connection string.</summary>
    private static async Task<string> CreateLoginAsync(string admin, string name, string role)
    {
        var created = await PoolaiProcess.RunAsync("db", "user", "create", name, "--role", role, "--connection", admin);
        Assert.AreEqual(0, created.ExitCode, created.StandardError);
        var login = new NpgsqlConnectionStringBuilder(created.StandardOutput.Trim());
        Assert.AreEqual(name, login.Username);
        return login.ConnectionString;
    }
}
