using Microsoft.Extensions.Configuration;
using Npgsql;
using PoolAI.Silo.Storage;

namespace PoolAI.Silo.Hosting;

/// <summary>The pool's shared PostgreSQL database: the connection string, a reachability check at start, and migrations.</summary>
public static class PoolDatabase
{
    /// <summary>ADO.NET invariant name of Npgsql in Orleans' providers.</summary>
    public const string Invariant = "Npgsql";

    private static readonly HashSet<string> Checked = [];
    private static readonly Lock CheckLock = new();

    /// <summary>
    /// The connection string of <c>PoolAI:Database:ConnectionString</c>, after checking (once per process)
    /// that the database answers, and applying the schema when <c>PoolAI:Database:Migrate</c> is true.
    /// </summary>
    /// <param name="configuration">Configuration to read.</param>
    /// <param name="neededBy">What needs it, for the error message.</param>
    /// <exception cref="PoolConfigurationException">Missing, malformed or unreachable, naming the key.</exception>
    public static string Require(IConfiguration configuration, string neededBy)
    {
        var options = configuration.GetSection(PoolDatabaseOptions.Section).Get<PoolDatabaseOptions>() ?? new PoolDatabaseOptions();
        if (string.IsNullOrWhiteSpace(options.ConnectionString))
            throw new PoolConfigurationException(PoolDatabaseOptions.ConnectionStringKey, $"is required for {neededBy}; set it in the environment as PoolAI__Database__ConnectionString (e.g. Host=db;Username=poolai;Password=…;Database=poolai)");
        lock (CheckLock)
        {
            if (Checked.Contains(options.ConnectionString))
                return options.ConnectionString;
        }

        try
        {
            var builder = new NpgsqlConnectionStringBuilder(options.ConnectionString);
            if (builder.Timeout > 10)
                builder.Timeout = 10;
            if (options.Migrate)
            {
                PostgresSchema.ApplyAsync(builder.ConnectionString).GetAwaiter().GetResult();
            }
            else
            {
                using var connection = new NpgsqlConnection(builder.ConnectionString);
                connection.Open();
            }
        }
        catch (ArgumentException ex)
        {
            throw new PoolConfigurationException(PoolDatabaseOptions.ConnectionStringKey, $"is not a valid Npgsql connection string ({ex.Message})");
        }
        catch (PostgresException ex)
        {
            throw new PoolConfigurationException(PoolDatabaseOptions.ConnectionStringKey, $"the database refused PoolAI's schema or login ({ex.SqlState}: {ex.MessageText})");
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException or System.Net.Sockets.SocketException)
        {
            var target = new NpgsqlConnectionStringBuilder(options.ConnectionString);
            throw new PoolConfigurationException(PoolDatabaseOptions.ConnectionStringKey, $"cannot reach the database at {target.Host}:{target.Port} ({ex.InnerException?.Message ?? ex.Message})");
        }

        lock (CheckLock)
            Checked.Add(options.ConnectionString);
        return options.ConnectionString;
    }
}
