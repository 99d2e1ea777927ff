using Microsoft.Data.Sqlite;
using PoolAI.Silo.Hosting;

namespace PoolAI.Silo.Storage;

/// <summary>
/// Creates PoolAI's SQLite schema for Orleans' ADO.NET grain storage (the scripts under
/// <c>config/sql/sqlite/</c>, embedded in this assembly) and turns on write-ahead logging so that
/// readers never wait for the writer. Every statement is idempotent; applying twice changes nothing.
/// The database holds API key hashes and job texts, so on Unix it is the owner's alone (see <see cref="PoolHome"/>).
/// </summary>
public static class SqliteSchema
{
    /// <summary>Files SQLite keeps beside a database, by suffix: write-ahead log, its shared memory, rollback journal.</summary>
    public static readonly IReadOnlyList<string> CompanionSuffixes = ["-wal", "-shm", "-journal"];

    /// <summary>
    /// Applies every script in order to the database of <paramref name="connectionString"/>, creating the file (mode 600)
    /// and its folder (700) if needed, and tightening the modes of an existing file and its companions
    /// (<see cref="CompanionSuffixes"/>) to the owner's (SQLite makes the companions with the database file's mode).
    /// </summary>
    /// <exception cref="SqliteException">The database cannot be opened or a script fails.</exception>
    public static void Apply(string connectionString)
    {
        var builder = new SqliteConnectionStringBuilder(connectionString);
        if (builder.Mode != SqliteOpenMode.Memory && !string.IsNullOrEmpty(builder.DataSource) && builder.DataSource != ":memory:"
            && !builder.DataSource.StartsWith("file:", StringComparison.OrdinalIgnoreCase))
        {
            var file = Path.GetFullPath(builder.DataSource);
            if (Path.GetDirectoryName(file) is { } folder)
                PoolHome.CreateFolder(folder);
            PoolHome.CreateOwnerOnlyFile(file);
            foreach (var suffix in CompanionSuffixes)
                PoolHome.RestrictToOwner(file + suffix);
        }

        using var connection = new SqliteConnection(connectionString);
        connection.Open();
        Execute(connection, "PRAGMA journal_mode = WAL;");
        foreach (var script in Scripts())
            Execute(connection, script);
    }

    /// <summary>The scripts' text, in file-name order.</summary>
    public static IEnumerable<string> Scripts() => EmbeddedSql.Read("PoolAI.Sql.Sqlite.").Select(script => script.Sql);

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
