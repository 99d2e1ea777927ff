using System.CommandLine;
using System.Globalization;
using PoolAI.Auth;
using Spectre.Console;

namespace PoolAI.Client.Cli;

/// <summary><c>poolai keys create|list|revoke</c>: API keys of the HTTP gateway, against the configured pool or the local embedded one.</summary>
internal static class KeysCommand
{
    public static Command Create()
    {
        var role = new Option<string>("--role") { Description = "admin, developer or miner", Required = true };
        var name = new Option<string>("--name") { Description = "What the key is for", DefaultValueFactory = _ => Environment.UserName };
        var create = new Command("create", "Create an API key and print it (shown once; the pool keeps only its hash)") { role, name };
        create.SetAction(async (result, cancellationToken) => await CliRunner.RunAsync(async (connection, _) =>
        {
            var (view, key) = await connection.Client.CreateApiKeyAsync(result.GetValue(role)!, result.GetValue(name)!);
            Console.WriteLine(key);
            Console.Error.WriteLine($"[key {view.Id}, role {view.Role}, name {view.Name}; store it now: it is not shown again]");
            return CliRunner.Ok;
        }, validate: _ =>
        {
            try
            {
                ApiRoles.Parse(result.GetValue(role));
            }
            catch (ArgumentException)
            {
                throw new PoolAI.Jobs.JobValidationException("--role", $"must be one of {string.Join(", ", ApiRoles.All)}; was '{result.GetValue(role)}'");
            }
        }, cancellationToken));

        var list = new Command("list", "List API keys (ids, roles, names; never the keys)");
        list.SetAction(async (result, cancellationToken) => await CliRunner.RunAsync(async (connection, _) =>
        {
            var table = new Table().AddColumns("id", "role", "name", "created (UTC)", "revoked (UTC)");
            foreach (var key in await connection.Client.ListApiKeysAsync())
            {
                table.AddRow(key.Id, key.Role, Markup.Escape(key.Name), key.CreatedAt.UtcDateTime.ToString("u", CultureInfo.InvariantCulture),
                    key.RevokedAt?.UtcDateTime.ToString("u", CultureInfo.InvariantCulture) ?? "");
            }

            AnsiConsole.Write(table);
            return CliRunner.Ok;
        }, validate: null, cancellationToken));

        var id = new Argument<string>("id") { Description = "The key's id (the 12 hex digits after pai_)" };
        var revoke = new Command("revoke", "Revoke an API key: it authenticates nothing from now on") { id };
        revoke.SetAction(async (result, cancellationToken) => await CliRunner.RunAsync(async (connection, _) =>
        {
            var view = await connection.Client.RevokeApiKeyAsync(result.GetValue(id)!);
            Console.WriteLine($"{view.Id}: revoked at {view.RevokedAt:u}");
            return CliRunner.Ok;
        }, validate: null, cancellationToken));

        return new Command("keys", "API keys of the HTTP gateway") { create, list, revoke };
    }
}
