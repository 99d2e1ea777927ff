using System.CommandLine;
using Npgsql;
using PoolAI.Silo.Hosting;
using PoolAI.Silo.Storage;

namespace PoolAI.Client.Cli;

/// <summary><c>poolai db migrate</c>: applies PoolAI's PostgreSQL schema (idempotent).</summary>
internal static class DbCommand
{
    public static Command Create()
    {
        var connection = new Option<string?>("--connection", "-c") { Description = "Npgsql connection string (default: POOLAI__Database__ConnectionString)" };
        var migrate = new Command("migrate", "Create or update the tables and queries of Orleans' ADO.NET providers on PostgreSQL; safe to run again") { connection };
        migrate.SetAction(async (result, cancellationToken) =>
        {
            var connectionString = result.GetValue(connection) ?? CliConfiguration.Load()[PoolDatabaseOptions.ConnectionStringKey];
            if (string.IsNullOrWhiteSpace(connectionString))
            {
                Console.Error.WriteLine($"poolai: invalid connection: give --connection or set POOLAI__Database__ConnectionString");
                return CliRunner.BadInput;
            }

            try
            {
                foreach (var script in await PostgresSchema.ApplyAsync(connectionString, cancellationToken))
                    Console.WriteLine($"applied {script}");
                return CliRunner.Ok;
            }
            catch (Exception ex) when (ex is NpgsqlException or ArgumentException or TimeoutException)
            {
                Console.Error.WriteLine($"poolai: migration failed: {ex.Message}");
                return CliRunner.JobNotSucceeded;
            }
        });
        return new Command("db", "Manage the pool's PostgreSQL database") { migrate };
    }
}
