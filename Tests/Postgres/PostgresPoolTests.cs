using System.Diagnostics;
using Npgsql;
using PoolAI.Client.Sdk;
using PoolAI.Jobs;
using PoolAI.Models;
using PoolAI.Silo.Storage;
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
        CollectionAssert.AreEqual(new[] { "001-main.sql", "002-clustering.sql", "003-persistence.sql", "004-reminders.sql" }, first.ToArray());
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
        Assert.AreEqual("applied 001-main.sql\napplied 002-clustering.sql\napplied 003-persistence.sql\napplied 004-reminders.sql\n", outcome.StandardOutput.Replace("\r", string.Empty, StringComparison.Ordinal));
    }

    [TestMethod]
    public async Task CompletedJobSurvivesARestartOfTheWholeClusterOnPostgres()
    {
        var database = await PostgresServer.CreateDatabaseAsync();
        await PostgresSchema.ApplyAsync(database);
        var serviceId = $"poolai-test-{Guid.NewGuid():N}";
        JobView done;
        await using (var first = TestPools.Build(1, _ => TestPools.Configuration("all-in-one", storage: "postgres", database: database), serviceId))
        {
            await first.DeployAsync();
            done = await new PoolClient(first.Client).GenerateAsync(TestModels.Shakespeare, TestModels.Settings(maxTokens: 30, seed: 4));
            Assert.AreEqual(JobStatus.Succeeded, done.Status, done.StatusMessage);
        }

        await using var second = TestPools.Build(1, _ => TestPools.Configuration("all-in-one", storage: "postgres", database: database), serviceId);
        await second.DeployAsync();
        var reloaded = await new PoolClient(second.Client).GetAsync(done.Id);
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
        var coordinator = SiloProcess.Start("coordinator", environment);
        SiloProcess? miner = null;
        try
        {
            await coordinator.WaitForLogAsync("Application started", TimeSpan.FromMinutes(2));
            miner = SiloProcess.Start("miner", environment);
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
        var silo = SiloProcess.Start("coordinator", new Dictionary<string, string>());
        var exit = await silo.WaitForExitAsync(TimeSpan.FromMinutes(1));
        Assert.AreEqual(2, exit);
        StringAssert.StartsWith(silo.Log.Trim(), "poolai silo: configuration PoolAI:Database:ConnectionString: is required for clustering 'adonet'");
    }

    [TestMethod]
    public async Task SiloStopsAtStartWithOneLineNamingAnUnreachableDatabase()
    {
        var port = TestPorts.Free();
        var silo = SiloProcess.Start("miner", new Dictionary<string, string> { ["PoolAI__Database__ConnectionString"] = $"Host=127.0.0.1;Port={port};Username=postgres;Timeout=3" });
        var exit = await silo.WaitForExitAsync(TimeSpan.FromMinutes(1));
        Assert.AreEqual(2, exit);
        StringAssert.StartsWith(silo.Log.Trim(), $"poolai silo: configuration PoolAI:Database:ConnectionString: cannot reach the database at 127.0.0.1:{port}");
    }

    [TestMethod]
    public async Task SiloStopsAtStartWithOneLineNamingAnUnknownRole()
    {
        var silo = SiloProcess.Start("banker", new Dictionary<string, string>());
        var exit = await silo.WaitForExitAsync(TimeSpan.FromMinutes(1));
        Assert.AreEqual(2, exit);
        Assert.AreEqual("poolai silo: configuration PoolAI:Role: must be one of coordinator, miner, all-in-one; was 'banker'", silo.Log.Trim());
    }
}

/// <summary>The real Silo executable as a child process with its own ports and home.</summary>
public sealed class SiloProcess : IDisposable
{
    private readonly Process _process;
    private readonly System.Text.StringBuilder _log = new();

    private SiloProcess(Process process, int siloPort)
    {
        _process = process;
        SiloPort = siloPort;
    }

    public int SiloPort { get; }

    public string Log
    {
        get
        {
            lock (_log)
                return _log.ToString();
        }
    }

    public static SiloProcess Start(string role, IReadOnlyDictionary<string, string> environment)
    {
        var siloPort = TestPorts.Free();
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "PoolAI.Silo.dll"));
        start.ArgumentList.Add("--role");
        start.ArgumentList.Add(role);
        start.ArgumentList.Add("--urls");
        start.ArgumentList.Add($"http://127.0.0.1:{TestPorts.Free()}");
        start.Environment["POOLAI_HOME"] = Path.Combine(Path.GetTempPath(), $"poolai-silo-{Guid.NewGuid():N}");
        start.Environment["PoolAI__Cluster__SiloPort"] = siloPort.ToString(System.Globalization.CultureInfo.InvariantCulture);
        start.Environment["PoolAI__Cluster__GatewayPort"] = TestPorts.FreeText();
        start.Environment["PoolAI__Worker__WorkerId"] = $"{role}-{siloPort}";
        start.Environment["Logging__LogLevel__Default"] = "Information";
        foreach (var (key, value) in environment)
            start.Environment[key] = value;
        var silo = new SiloProcess(Process.Start(start)!, siloPort);
        silo._process.OutputDataReceived += (_, e) => silo.Append(e.Data);
        silo._process.ErrorDataReceived += (_, e) => silo.Append(e.Data);
        silo._process.BeginOutputReadLine();
        silo._process.BeginErrorReadLine();
        return silo;
    }

    public async Task WaitForLogAsync(string text, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!Log.Contains(text, StringComparison.Ordinal))
        {
            if (_process.HasExited)
                Assert.Fail($"the silo exited with {_process.ExitCode} before logging '{text}': {Log}");
            if (DateTime.UtcNow > deadline)
                Assert.Fail($"the silo did not log '{text}' within {timeout}: {Log}");
            await Task.Delay(100);
        }
    }

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cancellation = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cancellation.Token);
        _process.WaitForExit();
        return _process.ExitCode;
    }

    public void Dispose()
    {
        if (!_process.HasExited)
            _process.Kill(entireProcessTree: true);
        _process.WaitForExit();
        _process.Dispose();
    }

    private void Append(string? line)
    {
        if (line is null)
            return;
        lock (_log)
            _log.AppendLine(line);
    }
}
