using Npgsql;
using PoolAI.Client.Sdk;
using PoolAI.Jobs;
using PoolAI.Models;
using PoolAI.Silo.Storage;
using PoolAI.Benchmarks.Failover;
using PoolAI.Tests.Cli;

namespace PoolAI.Tests.Postgres;

/// <summary>The pool on PostgreSQL: migrations, grain state, and real silo processes clustering through the database.</summary>
[TestClass]
[DoNotParallelize]
public sealed class PostgresPoolTests
{
    [TestMethod]
    public async Task MigrationsApplyTwiceAndRegisterEveryProviderQuery()
    {
        var database = await PostgresServer.CreateDatabaseAsync();
        var first = await PostgresSchema.ApplyAsync(database);
        var second = await PostgresSchema.ApplyAsync(database);
        CollectionAssert.AreEqual(new[] { "001-main.sql", "002-clustering.sql", "003-persistence.sql", "004-reminders.sql", "005-roles.sql" }, first.ToArray());
        CollectionAssert.AreEqual(first.ToArray(), second.ToArray());

        await using var connection = new NpgsqlConnection(database);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT string_agg(querykey, ',' ORDER BY querykey) FROM orleansquery", connection);
        var keys = ((string)(await command.ExecuteScalarAsync())!).Split(',');
        Assert.AreEqual(21, keys.Length);
        foreach (var required in new[] { "ReadFromStorageKey", "WriteToStorageKey", "ClearStorageKey", "InsertMembershipKey", "UpdateMembershipKey", "MembershipReadAllKey", "GatewaysQueryKey", "UpsertReminderRowKey", "ReadRangeRows1Key" })
            CollectionAssert.Contains(keys, required);
    }

    [TestMethod]
    public async Task PoolMigrateCommandAppliesTheSchema()
    {
        var database = await PostgresServer.CreateDatabaseAsync();
        var outcome = await PoolaiProcess.RunAsync("db", "migrate", "--connection", database);
        Assert.AreEqual(0, outcome.ExitCode, outcome.StandardError);
        Assert.AreEqual("applied 001-main.sql\napplied 002-clustering.sql\napplied 003-persistence.sql\napplied 004-reminders.sql\napplied 005-roles.sql\n", outcome.StandardOutput.Replace("\r", string.Empty, StringComparison.Ordinal));
    }

    [TestMethod]
    public async Task CompletedJobSurvivesARestartOfTheWholeClusterOnPostgres()
    {
        var database = await PostgresServer.CreateDatabaseAsync();
        await PostgresSchema.ApplyAsync(database);
        var (done, reloaded) = await TestPools.RunJobAcrossRestartAsync("postgres", database: database);

        Assert.AreEqual(JobStatus.Succeeded, done.Status, done.StatusMessage);
        Assert.AreEqual(JobStatus.Succeeded, reloaded.Status);
        Assert.AreEqual(done.Result, reloaded.Result);
    }

    [TestMethod]
    public async Task CoordinatorAndMinerProcessesFormAClusterThroughTheDatabaseAndServeTheCli()
    {
        var database = await PostgresServer.CreateDatabaseAsync();
        var environment = new Dictionary<string, string>
        {
            ["PoolAI__Database__ConnectionString"] = database,
            ["PoolAI__Cluster__AdvertisedAddress"] = "127.0.0.1",
            ["PoolAI__Cluster__ClusterId"] = $"test-{Guid.NewGuid():N}",
        };
        var coordinator = PoolProcess.StartSilo("coordinator", environment);
        PoolProcess? miner = null;
        try
        {
            await coordinator.WaitForLogAsync("Application started", TimeSpan.FromMinutes(2));
            miner = PoolProcess.StartSilo("miner", environment);
            await miner.WaitForLogAsync("registered: serves shakespeare-char", TimeSpan.FromMinutes(2));

            var cli = await PoolaiProcess.RunAsync(
                new Dictionary<string, string>
                {
                    ["POOLAI__Cluster__Clustering"] = "adonet",
                    ["POOLAI__Cluster__ClusterId"] = environment["PoolAI__Cluster__ClusterId"],
                    ["POOLAI__Database__ConnectionString"] = database,
                },
                "generate", "ROMEO:", "--max-tokens", "40", "--seed", "8");

            Assert.AreEqual(0, cli.ExitCode, cli.StandardError + coordinator.Log + miner.Log);
            var expected = new TextGenerator(TestModels.ShakespeareModel).Generate(TestModels.Settings(maxTokens: 40, seed: 8));
            Assert.AreEqual("ROMEO:" + expected.Text + Environment.NewLine, cli.StandardOutput);
            StringAssert.Contains(cli.StandardError, $"silo S127.0.0.1:{miner.SiloPort}:");
            StringAssert.Contains(cli.StandardError, "on PostgreSQL]");
        }
        finally
        {
            miner?.Dispose();
            coordinator.Dispose();
        }
    }

    [TestMethod]
    public async Task SiloStopsAtStartWithOneLineNamingAMissingConnectionString()
    {
        var silo = PoolProcess.StartSilo("coordinator", new Dictionary<string, string>());
        var exit = await silo.WaitForExitAsync(TimeSpan.FromMinutes(1));
        Assert.AreEqual(2, exit);
        StringAssert.StartsWith(silo.Log.Trim(), "poolai silo: configuration PoolAI:Database:ConnectionString: is required for clustering 'adonet'");
    }

    [TestMethod]
    public async Task SiloStopsAtStartWithOneLineNamingAnUnreachableDatabase()
    {
        var port = TestPorts.Free();
        var silo = PoolProcess.StartSilo("miner", new Dictionary<string, string> { ["PoolAI__Database__ConnectionString"] = $"Host=127.0.0.1;Port={port};Username=postgres;Timeout=3" });
        var exit = await silo.WaitForExitAsync(TimeSpan.FromMinutes(1));
        Assert.AreEqual(2, exit);
        StringAssert.StartsWith(silo.Log.Trim(), $"poolai silo: configuration PoolAI:Database:ConnectionString: cannot reach the database at 127.0.0.1:{port}");
    }

    [TestMethod]
    [DataRow("abc", "cannot be read as a time span (hh:mm:ss, or d.hh:mm:ss)")]
    [DataRow("02:00:00", "must be between 00:00:01 and 01:00:00")]
    public async Task SiloStopsAtStartWithOneLineNamingAnOptionItCannotReadOrThatIsOutOfRange(string value, string rule)
    {
        var silo = PoolProcess.StartSilo("all-in-one", new Dictionary<string, string> { ["PoolAI__Jobs__RunningAudit"] = value });
        var exit = await silo.WaitForExitAsync(TimeSpan.FromMinutes(1));
        Assert.AreEqual(2, exit, silo.Log);
        Assert.AreEqual($"poolai silo: configuration PoolAI:Jobs:RunningAudit: {rule}", silo.Log.Trim());
    }

    [TestMethod]
    public async Task SiloStopsAtStartWithOneLineNamingAnUnknownRole()
    {
        var silo = PoolProcess.StartSilo("banker", new Dictionary<string, string>());
        var exit = await silo.WaitForExitAsync(TimeSpan.FromMinutes(1));
        Assert.AreEqual(2, exit);
        Assert.AreEqual("poolai silo: configuration PoolAI:Role: must be one of coordinator, miner, all-in-one; was 'banker'", silo.Log.Trim());
    }
}
