using System.CommandLine;
using System.Net.Http.Json;
using PoolAI.Silo.Hosting;

namespace PoolAI.Client.Cli;

/// <summary><c>poolai silo</c>: runs a silo of the pool in this process (the same as the <c>Silo</c> executable).</summary>
public static class SiloCommand
{
    /// <summary>The command.</summary>
    public static Command Create()
    {
        var role = new Option<string>("--role") { Description = "coordinator, miner or all-in-one (default)" };
        var pool = new Option<string>("--pool") { Description = "An open miner: the pool gateway's URL (https://HOST); the miner reaches the pool only through it" };
        var key = new Option<string>("--key") { Description = "An open miner: its miner key (pai_…), which an admin creates with 'poolai keys create --role miner'" };
        var storage = new Option<string>("--storage") { Description = "An open miner: disk space it offers the pool's volumes for encrypted shards, such as 10GiB or 500MB (default 0: none); they are kept under $POOLAI_HOME/chunks" };
        var command = new Command("silo", "Run a silo of the pool: a coordinator, a trusted miner that joins the cluster, or (with --pool and --key) an open miner that reaches the pool only through its gateway. Any other setting may follow as --PoolAI:Section:Key VALUE")
        {
            role, pool, key, storage,
        };
        command.TreatUnmatchedTokensAsErrors = false;
        command.Subcommands.Add(Enroll());
        command.SetAction(async (result, _) =>
        {
            var args = new List<string>();
            foreach (var (option, name) in new[] { (role, "--role"), (pool, "--pool"), (key, "--key"), (storage, "--storage") })
            {
                if (result.GetValue(option) is { } value)
                    args.AddRange([name, value]);
            }

            args.AddRange(result.UnmatchedTokens);
            return await SiloHost.RunAsync([.. args]);
        });
        return command;
    }

    /// <summary><c>poolai silo enroll</c>: a trusted silo gets its certificate from the pool with a one-time token.</summary>
    private static Command Enroll()
    {
        var pool = new Option<string>("--pool") { Description = "The pool gateway's URL (https://HOST)", Required = true };
        var token = new Option<string>("--token") { Description = "The one-time enrollment token (pet_…) from the admin ('poolai ca token')", Required = true };
        var output = new Option<string>("--out") { Description = "Folder for silo.key, silo.crt and ca.crt", DefaultValueFactory = _ => Path.Combine(PoolHome.Directory, "certs") };
        var enroll = new Command("enroll", "Make this silo's key (it stays here), have the pool sign it with a one-time token, and write the certificate") { pool, token, output };
        enroll.SetAction(async (result, cancellationToken) =>
        {
            var address = result.GetValue(pool)!;
            if (!Uri.TryCreate(address, UriKind.Absolute, out var uri) || uri.Scheme is not ("https" or "http"))
                return Refuse("--pool", $"must be the pool gateway's URL, https://HOST[:PORT]; was '{address}'");
            var secret = result.GetValue(token)!.Trim();
            if (PoolAI.Auth.EnrollmentTokens.IdOf(secret) is null)
                return Refuse("--token", "must be an enrollment token (pet_ followed by 12 hex digits, '_' and the secret)");
            var directory = result.GetValue(output)!;
            var keyPath = Path.Combine(directory, "silo.key");
            if (File.Exists(keyPath))
                return Refuse("--out", $"'{keyPath}' exists: this folder holds an enrolled silo already; choose another");

            var (key, request) = PoolAI.Hosting.PoolCertificates.CreateRequest("silo");
            using (key)
            {
                using var http = new HttpClient { BaseAddress = uri, Timeout = TimeSpan.FromSeconds(30) };
                HttpResponseMessage response;
                try
                {
                    response = await http.PostAsJsonAsync("api/silos/enroll", new { token = secret, request }, cancellationToken);
                }
                catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
                {
                    Console.Error.WriteLine($"poolai: cannot reach the pool at {uri}: {ex.Message}");
                    return CliRunner.PoolUnavailable;
                }

                using (response)
                {
                    var body = await response.Content.ReadAsStringAsync(cancellationToken);
                    if (!response.IsSuccessStatusCode)
                    {
                        Console.Error.WriteLine($"poolai: the pool refused the enrollment: {Problem(body) ?? $"HTTP {(int)response.StatusCode}"}");
                        return (int)response.StatusCode is >= 400 and < 500 ? CliRunner.BadInput : CliRunner.PoolUnavailable;
                    }

                    var enrollment = System.Text.Json.JsonDocument.Parse(body).RootElement;
                    CaCommand.CreatePrivateDirectory(directory);
                    CaCommand.WritePrivate(keyPath, key.ExportPkcs8PrivateKeyPem());
                    await File.WriteAllTextAsync(Path.Combine(directory, "silo.crt"), enrollment.GetProperty("certificate_pem").GetString(), cancellationToken);
                    await File.WriteAllTextAsync(Path.Combine(directory, "ca.crt"), enrollment.GetProperty("authority_pem").GetString(), cancellationToken);
                    var full = Path.GetFullPath(directory);
                    Console.WriteLine($"enrolled as {enrollment.GetProperty("name").GetString()}: certificate {enrollment.GetProperty("serial").GetString()}, valid until {enrollment.GetProperty("not_after").GetString()}");
                    Console.WriteLine($"export PoolAI__Cluster__Tls__CertificatePath={full}/silo.crt PoolAI__Cluster__Tls__KeyPath={full}/silo.key PoolAI__Cluster__Tls__AuthorityPath={full}/ca.crt");
                    Console.WriteLine("# and PoolAI__Cluster__Tls__RevocationListPath=… (the pool's revoked.txt, as its admin distributes it)");
                    return CliRunner.Ok;
                }
            }
        });
        return enroll;
    }

    private static int Refuse(string field, string rule)
    {
        Console.Error.WriteLine($"poolai: invalid {field}: {rule}");
        return CliRunner.BadInput;
    }

    /// <summary>"field: rule" from a problem-details body, or null.</summary>
    private static string? Problem(string body)
    {
        try
        {
            var root = System.Text.Json.JsonDocument.Parse(body).RootElement;
            if (root.TryGetProperty("errors", out var errors) && errors.ValueKind == System.Text.Json.JsonValueKind.Object)
            {
                foreach (var error in errors.EnumerateObject())
                    return $"{error.Name}: {string.Join("; ", error.Value.EnumerateArray().Select(e => e.GetString()))}";
            }

            return root.TryGetProperty("detail", out var detail) ? detail.GetString() : null;
        }
        catch (System.Text.Json.JsonException)
        {
            return null;
        }
    }
}
