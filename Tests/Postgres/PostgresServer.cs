using System.Diagnostics;
using Npgsql;

namespace PoolAI.Tests.Postgres;

/// <summary>
/// The PostgreSQL server the database tests use: the one named by <c>POOLAI_TEST_POSTGRES</c> (what
/// <c>.ci/run</c> starts), otherwise one this test run starts itself from the installed PostgreSQL
/// binaries in a temporary data directory (as the <c>postgres</c> user when running as root) and stops
/// at the end. Each test gets its own database.
/// </summary>
public static class PostgresServer
{
    private static readonly SemaphoreSlim Gate = new(1, 1);
    private static string? _adminConnectionString;
    private static string? _ownDataDirectory;

    /// <summary>A new, empty database; its connection string.</summary>
    public static async Task<string> CreateDatabaseAsync()
    {
        var admin = await AdminAsync();
        var name = $"poolai_test_{Guid.NewGuid():N}";
        await using (var connection = new NpgsqlConnection(admin))
        {
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand($"CREATE DATABASE {name}", connection);
            await command.ExecuteNonQueryAsync();
        }

        return new NpgsqlConnectionStringBuilder(admin) { Database = name }.ConnectionString;
    }

    /// <summary>Stops the server this run started, if any.</summary>
    public static void StopOwn()
    {
        if (_ownDataDirectory is null)
            return;
        Run(PgBin("pg_ctl"), "-D", _ownDataDirectory, "-m", "immediate", "stop");
        Directory.Delete(Path.GetDirectoryName(_ownDataDirectory)!, recursive: true);
        _ownDataDirectory = null;
    }

    private static async Task<string> AdminAsync()
    {
        await Gate.WaitAsync();
        try
        {
            _adminConnectionString ??= Environment.GetEnvironmentVariable("POOLAI_TEST_POSTGRES") is { Length: > 0 } given ? given : StartOwn();
            return _adminConnectionString;
        }
        finally
        {
            Gate.Release();
        }
    }

    private static string StartOwn()
    {
        var initdb = PgBin("initdb");
        if (initdb is null)
        {
            Assert.Inconclusive("PostgreSQL is not installed and POOLAI_TEST_POSTGRES is not set; .ci/run installs and starts it");
            return string.Empty;
        }

        var root = Path.Combine(Path.GetTempPath(), $"poolai-pg-{Guid.NewGuid():N}");
        var data = Path.Combine(root, "data");
        Directory.CreateDirectory(root);
        if (Environment.UserName == "root")
            Run("chown", "postgres", root);
        Run(initdb, "-D", data, "-A", "trust", "-U", "postgres");
        var port = TestPorts.Free();
        Run(PgBin("pg_ctl")!, "-D", data, "-o", $"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c max_connections=300", "-l", Path.Combine(root, "log"), "-w", "start");
        _ownDataDirectory = data;
        return $"Host=127.0.0.1;Port={port};Username=postgres;Database=postgres";
    }

    private static string? PgBin(string tool) =>
        Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql").OrderDescending().Select(d => Path.Combine(d, "bin", tool)).FirstOrDefault(File.Exists)
            : null;

    private static void Run(string? tool, params string[] args)
    {
        var start = Environment.UserName == "root" && tool != "chown"
            ? new ProcessStartInfo("runuser") { ArgumentList = { "-u", "postgres", "--", tool! } }
            : new ProcessStartInfo(tool!);
        foreach (var arg in args)
            start.ArgumentList.Add(arg);
        start.RedirectStandardOutput = start.RedirectStandardError = true;
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEnd() + process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{tool} {string.Join(' ', args)} failed: {output}");
    }
}
