using Microsoft.Data.Sqlite;

namespace PoolAI.Silo.Storage;

/// <summary>
/// Creates PoolAI's SQLite schema for Orleans' ADO.NET grain storage (the scripts under
/// <c>config/sql/sqlite/</c>, embedded in this assembly) and turns on write-ahead logging so that
/// readers never wait for the writer. Every statement is idempotent; applying twice changes nothing.
/// </summary>
public static class SqliteSchema
{
    /// <summary>Applies every script in order to the database of <paramref name="connectionString"/>, creating the file and its folder if needed.</summary>
    /// <exception cref="SqliteException">The database cannot be opened or a script fails.</exception>
    public static void Apply(string connectionString)
    {
        var builder = new SqliteConnectionStringBuilder(connectionString);
        if (!string.IsNullOrEmpty(builder.DataSource) && builder.DataSource != ":memory:" && Path.GetDirectoryName(Path.GetFullPath(builder.DataSource)) is { } folder)
            Directory.CreateDirectory(folder);
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
