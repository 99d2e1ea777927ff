using System.CommandLine;
using System.Globalization;
using PoolAI.Auth;
using Spectre.Console;

namespace PoolAI.Client.Cli;

/// <summary><c>poolai keys create|list|revoke|s3</c>: API keys of the HTTP gateway, against the configured pool or the local embedded one.</summary>
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

        var s3Id = new Argument<string>("id") { Description = "The key's id (the 12 hex digits after pai_)" };
        var s3 = new Command("s3", "Print a key's S3 credentials for the gateway's /s3 (needs the gateway's S3 master secret on this machine; key holders can ask the gateway: GET /api/s3/credentials)") { s3Id };
        s3.SetAction(async (result, cancellationToken) => await CliRunner.RunAsync(async (connection, _) =>
        {
            var keyId = result.GetValue(s3Id)!;
            var key = (await connection.Client.ListApiKeysAsync()).FirstOrDefault(k => k.Id == keyId)
                ?? throw new PoolAI.Jobs.JobValidationException("id", $"no API key has id '{keyId}'");
            if (key.RevokedAt is not null)
                throw new PoolAI.Jobs.JobValidationException("id", $"key {keyId} was revoked at {key.RevokedAt:u}; its S3 credentials are refused");
            if (key.Role == ApiRoles.Miner)
                throw new PoolAI.Jobs.JobValidationException("id", $"key {keyId} is a miner key; S3 is for developer and admin keys");
            var configuration = CliConfiguration.Load();
            // An embedded pool is this machine's own: its gateway reads the same pool home, so the secret may be made here.
            var master = connection.Kind == PoolAI.Client.Sdk.PoolConnectionKind.Embedded
                ? PoolAI.Silo.Hosting.S3MasterSecret.LoadOrCreate(configuration)
                : PoolAI.Silo.Hosting.S3MasterSecret.LoadExisting(configuration)
                    ?? throw new PoolAI.Jobs.JobValidationException(PoolAI.Silo.Hosting.S3MasterSecret.ConfigurationKey,
                        "this machine has no S3 master secret: set POOLAI__Gateway__S3__Secret to the gateway's, or have the key's holder ask the gateway (GET /api/s3/credentials)");
            Console.WriteLine($"aws_access_key_id = {S3Credentials.AccessKeyIdOf(keyId)}");
            Console.WriteLine($"aws_secret_access_key = {S3Credentials.SecretFor(master, keyId)}");
            Console.Error.WriteLine($"[S3 credentials of key {keyId} ({key.Role}); endpoint: the gateway's /s3, path-style, region us-east-1]");
            return CliRunner.Ok;
        }, validate: _ =>
        {
            if (S3Credentials.KeyIdOf(S3Credentials.AccessKeyPrefix + result.GetValue(s3Id)?.ToUpperInvariant()) != result.GetValue(s3Id))
                throw new PoolAI.Jobs.JobValidationException("id", $"must be the 12 lower-case hex digits after pai_; was '{result.GetValue(s3Id)}'");
        }, cancellationToken));

        return new Command("keys", "API keys of the HTTP gateway") { create, list, revoke, s3 };
    }
}
