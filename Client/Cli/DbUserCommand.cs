using System.CommandLine;
using Npgsql;
using PoolAI.Silo.Storage;

namespace PoolAI.Client.Cli;

/// <summary>
/// <c>poolai db user create NAME --role coordinator|miner [--password-stdin]</c>: a login of the pool's PostgreSQL
/// database for one silo, a member of the role's group role (<see cref="PoolDatabaseRole"/>), with a random password
/// unless one comes on standard input; prints the connection string the silo is to use.
/// </summary>
internal static class DbUserCommand
{
    public static Command Create()
    {
        var name = new Argument<string>("name") { Description = "The login's name: lower-case letters, digits and underscores, starting with a letter" };
        var role = new Option<string>("--role") { Description = "coordinator or miner", Required = true };
        var passwordStdin = new Option<bool>("--password-stdin") { Description = "Read the password from standard input (one line) instead of generating a random one" };
        var connection = DbCommand.ConnectionOption();
        var create = new Command("create", "Create a login for a coordinator or a trusted miner and print its connection string (run 'poolai db migrate' first)")
        {
            name, role, passwordStdin, connection,
        };
        create.SetAction(async (result, cancellationToken) =>
        {
            var login = result.GetValue(name)!;
            if (!PostgresLogins.IsValidName(login))
                return Invalid("NAME", $"{PostgresLogins.NameRule}; was '{login}'");
            if (PoolDatabaseRoles.TryParse(result.GetValue(role)) is not { } poolRole)
                return Invalid("--role", $"must be one of {string.Join(", ", PoolDatabaseRoles.Names)}; was '{result.GetValue(role)}'");
            var password = PostgresLogins.NewPassword();
            if (result.GetValue(passwordStdin))
            {
                var input = await Console.In.ReadToEndAsync(cancellationToken);
                password = input.EndsWith('\n') ? input[..^1].TrimEnd('\r') : input;
                if (!PostgresLogins.IsValidPassword(password))
                    return Invalid("--password-stdin", $"the password on standard input {PostgresLogins.PasswordRule}");
            }

            if (DbCommand.ConnectionString(result, connection) is not { } connectionString)
                return CliRunner.BadInput;

            var group = poolRole.GroupRole();
            try
            {
                Console.WriteLine(await PostgresLogins.CreateAsync(connectionString, login, poolRole, password, cancellationToken));
                Console.Error.WriteLine($"[login {login} in {group}: give this connection string to the {poolRole.Name()} as PoolAI__Database__ConnectionString{(result.GetValue(passwordStdin) ? "" : "; its password is not shown again")}]");
                return CliRunner.Ok;
            }
            catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.DuplicateObject)
            {
                return Invalid("NAME", $"a role named '{login}' exists already on this PostgreSQL server");
            }
            catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.UndefinedObject)
            {
                Console.Error.WriteLine($"poolai: role {group} does not exist on this PostgreSQL server: run 'poolai db migrate' first");
                return CliRunner.BadInput;
            }
            catch (Exception ex) when (ex is NpgsqlException or ArgumentException or TimeoutException)
            {
                Console.Error.WriteLine($"poolai: creating login {login} failed: {ex.Message}");
                return CliRunner.JobNotSucceeded;
            }
        });
        return new Command("user", "Logins of the pool's PostgreSQL database") { create };
    }

    private static int Invalid(string field, string rule)
    {
        Console.Error.WriteLine($"poolai: invalid {field}: {rule}");
        return CliRunner.BadInput;
    }
}
