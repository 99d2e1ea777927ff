using System.CommandLine;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using PoolAI.Hosting;
using PoolAI.Silo.Hosting;

namespace PoolAI.Client.Cli;

/// <summary>
/// <c>poolai ca init|request|sign|revoke</c>: the pool's certificate authority for trusted silos (see
/// <see cref="PoolCertificates"/>). Works on files only; nothing here talks to the pool.
/// </summary>
internal static class CaCommand
{
    public static Command Create()
    {
        var folder = new Option<string>("--ca") { Description = "The authority's folder (ca.crt, ca.key, revoked.txt)", Required = true };

        var initName = new Option<string>("--name") { Description = "The authority's name", DefaultValueFactory = _ => "PoolAI pool authority" };
        var init = new Command("init", "Make the pool's certificate authority in a new folder (its key readable by its owner alone)") { folder, initName };
        init.SetAction(result => Run(() =>
        {
            var directory = result.GetValue(folder)!;
            if (File.Exists(Path.Combine(directory, PoolCertificates.AuthorityKeyFile)))
                return Refuse("--ca", $"'{directory}' already holds an authority; choose another folder");
            CreatePrivateDirectory(directory);
            using var authority = PoolCertificates.CreateAuthority(result.GetValue(initName)!);
            using var key = authority.GetECDsaPrivateKey()!;
            WritePrivate(Path.Combine(directory, PoolCertificates.AuthorityKeyFile), key.ExportPkcs8PrivateKeyPem());
            File.WriteAllText(Path.Combine(directory, PoolCertificates.AuthorityCertificateFile), authority.ExportCertificatePem() + "\n");
            File.WriteAllText(Path.Combine(directory, PoolCertificates.RevocationListFile), "# serial numbers of revoked silo certificates, one per line\n");
            Console.WriteLine($"authority {authority.Subject}, serial {authority.SerialNumber}, valid until {authority.NotAfter:u}");
            Console.WriteLine($"give every silo, gateway and client {Path.GetFullPath(Path.Combine(directory, PoolCertificates.AuthorityCertificateFile))}; keep {PoolCertificates.AuthorityKeyFile} on the admin's machine");
            return CliRunner.Ok;
        }));

        var requestName = new Option<string>("--name") { Description = "The silo's name (letters, digits, '.', '-')", Required = true };
        var requestOut = new Option<string>("--out") { Description = "Folder for NAME.key and NAME.csr", DefaultValueFactory = _ => Path.Combine(PoolHome.Directory, "certs") };
        var request = new Command("request", "On a trusted silo: make its key (which stays here) and a signing request for the admin to sign") { requestName, requestOut };
        request.SetAction(result => Run(() =>
        {
            var name = result.GetValue(requestName)!;
            var directory = result.GetValue(requestOut)!;
            var (key, csr) = PoolCertificates.CreateRequest(name);
            using (key)
            {
                CreatePrivateDirectory(directory);
                var keyPath = Path.Combine(directory, $"{name}.key");
                if (File.Exists(keyPath))
                    return Refuse("--name", $"'{keyPath}' exists; a silo keeps its key: choose another name or folder");
                WritePrivate(keyPath, key.ExportPkcs8PrivateKeyPem());
                File.WriteAllText(Path.Combine(directory, $"{name}.csr"), csr);
                Console.WriteLine(Path.GetFullPath(Path.Combine(directory, $"{name}.csr")));
                Console.Error.WriteLine($"[send {name}.csr to the pool's admin for 'poolai ca sign'; {name}.key stays here]");
            }

            return CliRunner.Ok;
        }));

        var csrPath = new Argument<string>("request") { Description = "The silo's NAME.csr" };
        var days = new Option<int>("--days") { Description = "Lifetime in days (1–825)", DefaultValueFactory = _ => 365 };
        var signOut = new Option<string?>("--out") { Description = "Where to write NAME.crt (default: beside the request)" };
        var sign = new Command("sign", "On the admin's machine: sign a silo's request with the pool's authority") { csrPath, folder, days, signOut };
        sign.SetAction(result => Run(() =>
        {
            var path = result.GetValue(csrPath)!;
            if (!File.Exists(path))
                return Refuse("request", $"no file at '{path}'");
            if (result.GetValue(days) is < 1 or > 825)
                return Refuse("--days", $"must be between 1 and 825; was {result.GetValue(days)}");
            using var authority = LoadAuthority(result.GetValue(folder)!);
            using var certificate = PoolCertificates.Sign(authority, File.ReadAllText(path), TimeSpan.FromDays(result.GetValue(days)));
            var name = certificate.GetNameInfo(X509NameType.SimpleName, false);
            var output = result.GetValue(signOut) ?? Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path))!, $"{name}.crt");
            File.WriteAllText(output, certificate.ExportCertificatePem() + "\n");
            Console.WriteLine($"{name}: serial {certificate.SerialNumber}, valid until {certificate.NotAfter:u}, written to {output}");
            Console.WriteLine("on that silo:");
            Console.WriteLine($"  export PoolAI__Cluster__Tls__CertificatePath=…/{name}.crt PoolAI__Cluster__Tls__KeyPath=…/{name}.key");
            Console.WriteLine($"  export PoolAI__Cluster__Tls__AuthorityPath=…/{PoolCertificates.AuthorityCertificateFile} PoolAI__Cluster__Tls__RevocationListPath=…/{PoolCertificates.RevocationListFile}");
            return CliRunner.Ok;
        }));

        var serial = new Argument<string>("serial") { Description = "The certificate's serial number (hex), or its .crt file" };
        var revoke = new Command("revoke", "Add a silo certificate to the revocation list: silos refuse it at its next connection once they see the list") { serial, folder };
        revoke.SetAction(result => Run(() =>
        {
            var directory = result.GetValue(folder)!;
            using var authority = LoadAuthority(directory);
            var given = result.GetValue(serial)!;
            string number;
            if (File.Exists(given))
            {
                using var certificate = X509CertificateLoader.LoadCertificateFromFile(given);
                number = certificate.SerialNumber;
            }
            else if (given.Length is > 0 and <= 64 && given.All(char.IsAsciiHexDigit))
            {
                number = given.ToUpperInvariant();
            }
            else
            {
                return Refuse("serial", $"must be a serial number in hex or a certificate file; was '{given}'");
            }

            var list = Path.Combine(directory, PoolCertificates.RevocationListFile);
            if (PoolCertificates.ReadRevocationList(list).Contains(number))
            {
                Console.WriteLine($"{number}: already revoked");
                return CliRunner.Ok;
            }

            File.AppendAllText(list, $"{number} {DateTimeOffset.UtcNow:u}\n");
            Console.WriteLine($"{number}: revoked; copy {list} to every silo's PoolAI:Cluster:Tls:RevocationListPath (silos read it again when it changes)");
            return CliRunner.Ok;
        }));

        var tokenName = new Option<string>("--name") { Description = "The trusted silo's name (letters, digits, '.', '-')", Required = true };
        var ttl = new Option<int>("--ttl-minutes") { Description = "How long the token is good (1–10080 minutes)", DefaultValueFactory = _ => 60 };
        var token = new Command("token", "Create a one-time enrollment token for a trusted silo (shown once): the silo runs 'poolai silo enroll' with it") { tokenName, ttl };
        token.SetAction(async (result, cancellationToken) => await CliRunner.RunAsync(async (connection, _) =>
        {
            var (view, secret) = await connection.Client.CreateEnrollmentTokenAsync(result.GetValue(tokenName)!, TimeSpan.FromMinutes(result.GetValue(ttl)));
            Console.WriteLine(secret);
            Console.Error.WriteLine($"[enrollment token {view.Id} for silo {view.Name}, good once until {view.ExpiresAt:u}; it is not shown again]");
            return CliRunner.Ok;
        }, validate: _ =>
        {
            if (result.GetValue(ttl) is < 1 or > 10_080)
                throw new PoolAI.Jobs.JobValidationException("--ttl-minutes", $"must be between 1 and 10080; was {result.GetValue(ttl)}");
            try
            {
                PoolCertificates.CheckName(result.GetValue(tokenName)!);
            }
            catch (ArgumentException ex)
            {
                throw new PoolAI.Jobs.JobValidationException("--name", ex.Message["name: ".Length..]);
            }
        }, cancellationToken));

        return new Command("ca", "The pool's certificate authority for trusted silos: one certificate per silo, enrollment tokens, and revocation") { init, request, sign, revoke, token };
    }

    private static int Run(Func<int> action)
    {
        try
        {
            return action();
        }
        catch (ArgumentException ex)
        {
            Console.Error.WriteLine($"poolai: invalid {ex.Message}");
            return CliRunner.BadInput;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or CryptographicException)
        {
            Console.Error.WriteLine($"poolai: {ex.Message}");
            return CliRunner.BadInput;
        }
    }

    private static int Refuse(string field, string rule)
    {
        Console.Error.WriteLine($"poolai: invalid {field}: {rule}");
        return CliRunner.BadInput;
    }

    private static X509Certificate2 LoadAuthority(string directory)
    {
        var certificate = Path.Combine(directory, PoolCertificates.AuthorityCertificateFile);
        var key = Path.Combine(directory, PoolCertificates.AuthorityKeyFile);
        if (!File.Exists(certificate) || !File.Exists(key))
            throw new ArgumentException($"--ca: '{directory}' holds no authority (ca.crt and ca.key); make one with 'poolai ca init --ca DIR'");
        return X509Certificate2.CreateFromPemFile(certificate, key);
    }

    /// <summary>Creates <paramref name="directory"/> (and its parents) and makes it its owner's alone.</summary>
    internal static void CreatePrivateDirectory(string directory)
    {
        Directory.CreateDirectory(directory);
        if (!OperatingSystem.IsWindows())
            File.SetUnixFileMode(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    /// <summary>Writes a new file (never replacing one) that only its owner can read, from the moment it exists.</summary>
    internal static void WritePrivate(string path, string text)
    {
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite; // never readable by others, not even for a moment
        using var stream = new FileStream(path, options);
        using var writer = new StreamWriter(stream);
        writer.Write(text);
        writer.Write('\n');
    }
}
