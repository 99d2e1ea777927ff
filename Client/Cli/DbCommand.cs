using System.CommandLine;
using Npgsql;
using PoolAI.Silo.Hosting;
using PoolAI.Silo.Storage;

namespace PoolAI.Client.Cli;

/// <summary><c>poolai db migrate</c>: applies PoolAI's PostgreSQL schema and roles (idempotent); <c>poolai db user</c>: logins (<see cref="DbUserCommand"/>).</summary>
internal static class DbCommand
{
    public static Command Create()
    {
        var connection = ConnectionOption();
        var migrate = new Command("migrate", "Create or update the tables and queries of Orleans' ADO.NET providers on PostgreSQL and the roles poolai_coordinator and poolai_miner; safe to run again") { connection };
        migrate.SetAction(async (result, cancellationToken) =>
        {
            if (ConnectionString(result, connection) is not { } connectionString)
                return CliRunner.BadInput;

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
        return new Command("db", "Manage the pool's PostgreSQL database") { migrate, DbUserCommand.Create() };
    }

    /// <summary>The <c>--connection</c> option of the <c>db</c> commands.</summary>
    public static Option<string?> ConnectionOption() =>
        new("--connection", "-c") { Description = "Npgsql connection string of an administrator of the database (default: POOLAI__Database__ConnectionString)" };

    /// <summary>The connection string from <paramref name="option"/> or the environment; null, after saying so on standard error, when neither gives one.</summary>
    public static string? ConnectionString(ParseResult result, Option<string?> option)
    {
        var connectionString = result.GetValue(option) ?? CliConfiguration.Load()[PoolDatabaseOptions.ConnectionStringKey];
        if (!string.IsNullOrWhiteSpace(connectionString))
            return connectionString;
        Console.Error.WriteLine("poolai: invalid connection: give --connection or set POOLAI__Database__ConnectionString");
        return null;
    }
}
