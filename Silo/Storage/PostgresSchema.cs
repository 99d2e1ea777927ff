using Npgsql;

namespace PoolAI.Silo.Storage;

/// <summary>
/// Applies PoolAI's PostgreSQL schema for Orleans' ADO.NET clustering, grain storage and reminders, and the
/// least-privilege roles <c>poolai_coordinator</c> and <c>poolai_miner</c> with their grants (the scripts under
/// <c>config/sql/postgresql/</c>, embedded in this assembly), each script in its own transaction. Every statement is idempotent and the scripts take an advisory lock, so silos may apply
/// them at every start, even at the same moment.
/// </summary>
public static class PostgresSchema
{
    /// <summary>Applies every script in order; returns their names.</summary>
    /// <exception cref="NpgsqlException">The database cannot be reached or a script fails.</exception>
    public static async Task<IReadOnlyList<string>> ApplyAsync(string connectionString, CancellationToken cancellationToken = default)
    {
        var applied = new List<string>();
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken);
        foreach (var (name, sql) in Scripts())
        {
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            await using (var command = new NpgsqlCommand(sql, connection, transaction))
                await command.ExecuteNonQueryAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            applied.Add(name);
        }

        return applied;
    }

    /// <summary>The scripts (file name, text), in file-name order.</summary>
    public static IEnumerable<(string Name, string Sql)> Scripts() => EmbeddedSql.Read("PoolAI.Sql.Postgresql.");
}
