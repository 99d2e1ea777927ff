using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Configuration;
using PoolAI.Benchmarks.Failover;
using PoolAI.Client.Sdk;
using PoolAI.Tests.Cli;

namespace PoolAI.Tests.Hosting;

/// <summary>
/// The pool's certificate authority for trusted silos, through <c>poolai ca</c>: each silo and client has a certificate
/// of its own, the cluster accepts only certificates of the pool's authority, and a revoked one is refused at its next
/// connection.
/// </summary>
[TestClass]
[OSCondition(ConditionMode.Exclude, OperatingSystems.Windows)]
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class PoolAuthorityTests
{
    [TestMethod]
    [Timeout(240_000, CooperativeCancellation = true)]
    public async Task TheClusterTakesOnlyItsAuthoritysCertificatesAndRefusesARevokedOneAtItsNextConnection()
    {
        var root = Path.Combine(Path.GetTempPath(), $"poolai-ca-{Guid.NewGuid():N}");
        var authority = Path.Combine(root, "authority");
        var silo = Path.Combine(root, "silo");
        var stranger = Path.Combine(root, "stranger");
        await RunAsync("ca", "init", "--ca", authority);
        await RunAsync("ca", "init", "--ca", Path.Combine(stranger, "authority"));
        await CertifyAsync(silo, authority, "coordinator-1", "client-1", "client-2");
        await CertifyAsync(stranger, Path.Combine(stranger, "authority"), "client-1");
        Assert.AreEqual(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(authority, "ca.key")), "the authority's key is its owner's alone");
        Assert.AreEqual(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(silo, "client-1.key")), "a silo's key is its owner's alone");

        Dictionary<string, string> Tls(string folder, string name) => new()
        {
            ["PoolAI__Cluster__Tls__CertificatePath"] = Path.Combine(folder, $"{name}.crt"),
            ["PoolAI__Cluster__Tls__KeyPath"] = Path.Combine(folder, $"{name}.key"),
            ["PoolAI__Cluster__Tls__AuthorityPath"] = Path.Combine(authority, "ca.crt"),
            ["PoolAI__Cluster__Tls__RevocationListPath"] = Path.Combine(authority, "revoked.txt"),
        };

        var gatewayPort = PoolProcess.FreePort();
        using var pool = PoolProcess.Start("PoolAI.Gateway.dll", PoolProcess.FreePort(), gatewayPort, Tls(silo, "coordinator-1"));
        await pool.WaitForLogAsync("Application started", TimeSpan.FromMinutes(2));

        // A client with a certificate of the pool's authority is served.
        await using (var member = await ConnectAsync(gatewayPort, Tls(silo, "client-1")))
            Assert.IsNotNull(await member.Client.ListApiKeysAsync());

        // One with a certificate of another authority (the same name) is refused.
        await Assert.ThrowsAsync<Exception>(async () =>
        {
            await using var outsider = await ConnectAsync(gatewayPort, Tls(stranger, "client-1"));
            await outsider.Client.ListApiKeysAsync().WaitAsync(TimeSpan.FromSeconds(15));
        });

        // Revoked: refused at its next connection, while another member still gets in.
        var revoked = await RunAsync("ca", "revoke", Path.Combine(silo, "client-1.crt"), "--ca", authority);
        StringAssert.Contains(revoked, "revoked");
        await Task.Delay(TimeSpan.FromSeconds(1.5)); // silos read the list again at most once a second
        await Assert.ThrowsAsync<Exception>(async () =>
        {
            await using var again = await ConnectAsync(gatewayPort, Tls(silo, "client-1"));
            await again.Client.ListApiKeysAsync().WaitAsync(TimeSpan.FromSeconds(15));
        });
        await using (var other = await ConnectAsync(gatewayPort, Tls(silo, "client-2")))
            Assert.IsNotNull(await other.Client.ListApiKeysAsync());
    }

    [TestMethod]
    [Timeout(240_000, CooperativeCancellation = true)]
    public async Task ATrustedSiloEnrollsOnceWithAOneTimeTokenAndItsKeyNeverLeavesIt()
    {
        var root = Path.Combine(Path.GetTempPath(), $"poolai-enroll-{Guid.NewGuid():N}");
        var authority = Path.Combine(root, "authority");
        var members = Path.Combine(root, "members");
        await RunAsync("ca", "init", "--ca", authority);
        await CertifyAsync(members, authority, "coordinator-1", "admin-1");

        Dictionary<string, string> Tls(string certificate, string key) => new()
        {
            ["PoolAI__Cluster__Tls__CertificatePath"] = certificate,
            ["PoolAI__Cluster__Tls__KeyPath"] = key,
            ["PoolAI__Cluster__Tls__AuthorityPath"] = Path.Combine(authority, "ca.crt"),
        };

        // The coordinator (here, the gateway's embedded one) holds the authority's key, and signs enrollments.
        var httpPort = PoolProcess.FreePort();
        var gatewayPort = PoolProcess.FreePort();
        var coordinator = Tls(Path.Combine(members, "coordinator-1.crt"), Path.Combine(members, "coordinator-1.key"));
        coordinator["PoolAI__Cluster__Tls__AuthorityKeyPath"] = Path.Combine(authority, "ca.key");
        using var pool = PoolProcess.Start("PoolAI.Gateway.dll", httpPort, gatewayPort, coordinator);
        await pool.WaitForLogAsync("Application started", TimeSpan.FromMinutes(2));

        // The admin creates a token through the pool, as a member with its own certificate.
        var admin = Tls(Path.Combine(members, "admin-1.crt"), Path.Combine(members, "admin-1.key"));
        admin["PoolAI__Client__Gateways"] = $"127.0.0.1:{gatewayPort}";
        var created = await PoolaiProcess.RunAsync(admin, "ca", "token", "--name", "miner-9");
        Assert.AreEqual(0, created.ExitCode, created.StandardError);
        var token = created.StandardOutput.Trim();
        StringAssert.StartsWith(token, "pet_");

        // The silo enrolls over HTTP with nothing but the token; its key is made here and stays here.
        var silo = Path.Combine(root, "silo");
        var enrolled = await PoolaiProcess.RunAsync("silo", "enroll", "--pool", $"http://127.0.0.1:{httpPort}", "--token", token, "--out", silo);
        Assert.AreEqual(0, enrolled.ExitCode, enrolled.StandardError);
        StringAssert.Contains(enrolled.StandardOutput, "enrolled as miner-9");
        Assert.AreEqual(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(silo, "silo.key")));
        using (var certificate = X509CertificateLoader.LoadCertificateFromFile(Path.Combine(silo, "silo.crt")))
        {
            Assert.AreEqual("miner-9", certificate.GetNameInfo(X509NameType.SimpleName, false), "the token names the silo");
            using var key = System.Security.Cryptography.ECDsa.Create();
            key.ImportFromPem(await File.ReadAllTextAsync(Path.Combine(silo, "silo.key")));
            CollectionAssert.AreEqual(key.ExportSubjectPublicKeyInfo(), certificate.PublicKey.ExportSubjectPublicKeyInfo(), "the certificate is for the key made on the silo");
        }

        await using (var member = await ConnectAsync(gatewayPort, Tls(Path.Combine(silo, "silo.crt"), Path.Combine(silo, "silo.key"))))
            Assert.IsNotNull(await member.Client.ListApiKeysAsync());

        // Once only; and never expired, unknown or for another pool.
        var again = await PoolaiProcess.RunAsync("silo", "enroll", "--pool", $"http://127.0.0.1:{httpPort}", "--token", token, "--out", Path.Combine(root, "again"));
        Assert.AreEqual(2, again.ExitCode, again.StandardError);
        StringAssert.Contains(again.StandardError, "token: was used at");
        await using (var connection = await ConnectAsync(gatewayPort, admin))
        {
            var (_, shortLived) = await connection.Client.CreateEnrollmentTokenAsync("miner-10", TimeSpan.FromSeconds(1));
            await Task.Delay(TimeSpan.FromSeconds(1.5));
            var expired = await PoolaiProcess.RunAsync("silo", "enroll", "--pool", $"http://127.0.0.1:{httpPort}", "--token", shortLived, "--out", Path.Combine(root, "expired"));
            Assert.AreEqual(2, expired.ExitCode, expired.StandardError);
            StringAssert.Contains(expired.StandardError, "token: expired at");
            Assert.IsFalse(Directory.Exists(Path.Combine(root, "expired")), "a refused enrollment writes nothing");
        }

        var unknown = await PoolaiProcess.RunAsync("silo", "enroll", "--pool", $"http://127.0.0.1:{httpPort}", "--token", "pet_0123456789ab_" + new string('x', 43), "--out", Path.Combine(root, "unknown"));
        Assert.AreEqual(2, unknown.ExitCode);
        StringAssert.Contains(unknown.StandardError, "token: is not an enrollment token of this pool");
    }

    [TestMethod]
    [Timeout(240_000, CooperativeCancellation = true)]
    public async Task AMinerSiloWithTheAuthoritysCertificateJoinsAndServesIsEvictedWhenRevokedAndOneFromAnotherAuthorityCannotJoin()
    {
        var root = Path.Combine(Path.GetTempPath(), $"poolai-join-{Guid.NewGuid():N}");
        var authority = Path.Combine(root, "authority");
        var members = Path.Combine(root, "members");
        var stranger = Path.Combine(root, "stranger");
        await RunAsync("ca", "init", "--ca", authority);
        await RunAsync("ca", "init", "--ca", Path.Combine(stranger, "authority"));
        await CertifyAsync(members, authority, "coordinator-1", "miner-1", "client-1");
        await CertifyAsync(stranger, Path.Combine(stranger, "authority"), "miner-2");
        Dictionary<string, string> Tls(string folder, string name) => new()
        {
            ["PoolAI__Cluster__Tls__CertificatePath"] = Path.Combine(folder, $"{name}.crt"),
            ["PoolAI__Cluster__Tls__KeyPath"] = Path.Combine(folder, $"{name}.key"),
            ["PoolAI__Cluster__Tls__AuthorityPath"] = Path.Combine(authority, "ca.crt"),
            ["PoolAI__Cluster__Tls__RevocationListPath"] = Path.Combine(authority, "revoked.txt"),
        };

        // A coordinator that serves nothing, so jobs run only on a miner that joined.
        var gatewayPort = PoolProcess.FreePort();
        var coordinatorSettings = Tls(members, "coordinator-1");
        coordinatorSettings["PoolAI__Role"] = "coordinator";
        using var coordinator = PoolProcess.Start("PoolAI.Gateway.dll", PoolProcess.FreePort(), gatewayPort, coordinatorSettings);
        await coordinator.WaitForLogAsync("Application started", TimeSpan.FromMinutes(2));
        Dictionary<string, string> Miner(string folder, string name) => new(Tls(folder, name))
        {
            ["PoolAI__Cluster__Clustering"] = "localhost",
            ["PoolAI__Cluster__PrimarySiloPort"] = coordinator.SiloPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["PoolAI__Cluster__GatewayPort"] = "0",
            ["PoolAI__Storage__Provider"] = "memory",
            ["PoolAI__Miner__Slots"] = "2",
        };

        // One from another authority cannot join: it never registers, and the pool has no silo for the job.
        using (var outsider = PoolProcess.Start("PoolAI.Silo.dll", PoolProcess.FreePort(), 0, Miner(stranger, "miner-2"), "--role", "miner"))
        {
            await Task.Delay(TimeSpan.FromSeconds(15));
            StringAssert.DoesNotMatch(outsider.Log, new System.Text.RegularExpressions.Regex("registered: serves"), "a silo of another authority joined");
        }

        using var member = PoolProcess.Start("PoolAI.Silo.dll", PoolProcess.FreePort(), 0, Miner(members, "miner-1"), "--role", "miner");
        await member.WaitForLogAsync("registered: serves", TimeSpan.FromMinutes(2));
        await using var client = await ConnectAsync(gatewayPort, Tls(members, "client-1"));
        var job = await client.Client.GenerateAsync(TestModels.Shakespeare, TestModels.Settings(maxTokens: 10, seed: 5));
        Assert.AreEqual(PoolAI.Jobs.JobStatus.Succeeded, job.Status, job.StatusMessage);
        StringAssert.Contains(job.Attempts[^1].Worker, "PoolAI.Silo-", "it ran on the miner that joined");

        // Revoked: the coordinator declares it dead (its open connections close; coming back, its certificate is refused),
        // and the pool has no silo for the next job.
        await RunAsync("ca", "revoke", Path.Combine(members, "miner-1.crt"), "--ca", authority);
        await coordinator.WaitForLogAsync("holds revoked certificate", TimeSpan.FromSeconds(15));
        var next = await client.Client.SubmitAsync(PoolAI.Jobs.JobSpec.TextGeneration(TestModels.Shakespeare, TestModels.Settings(maxTokens: 10, seed: 6)));
        await Task.Delay(TimeSpan.FromSeconds(3));
        var waiting = await client.Client.GetAsync(next.Id);
        Assert.AreEqual(PoolAI.Jobs.JobStatus.Queued, waiting.Status, waiting.StatusMessage);
        Assert.AreEqual(0, waiting.Attempts.Count);
        await client.Client.CancelAsync(next.Id, "test over");
    }

    [TestMethod]
    public async Task BadInputToTheAuthorityIsRefusedNamingTheFieldAndChangesNothing()
    {
        var root = Path.Combine(Path.GetTempPath(), $"poolai-ca-{Guid.NewGuid():N}");
        var authority = Path.Combine(root, "authority");
        await RunAsync("ca", "init", "--ca", authority);
        var listBefore = await File.ReadAllTextAsync(Path.Combine(authority, "revoked.txt"));
        await RunAsync("ca", "request", "--name", "silo-1", "--out", root);

        await RefusedAsync("invalid --ca: '", "ca", "init", "--ca", authority);
        await RefusedAsync("invalid name: must be 1 to 64 letters, digits, '.' or '-'", "ca", "request", "--name", "bad name!", "--out", root);
        await RefusedAsync("invalid --days: must be between 1 and 825; was 0", "ca", "sign", Path.Combine(root, "silo-1.csr"), "--ca", authority, "--days", "0");
        await File.WriteAllTextAsync(Path.Combine(root, "not.csr"), "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n");
        await RefusedAsync("invalid request: is not a certificate signing request", "ca", "sign", Path.Combine(root, "not.csr"), "--ca", authority);
        await RefusedAsync("invalid --ca: '", "ca", "sign", Path.Combine(root, "silo-1.csr"), "--ca", root);
        await RefusedAsync("invalid serial: must be a serial number in hex", "ca", "revoke", "not-hex!", "--ca", authority);
        Assert.AreEqual(listBefore, await File.ReadAllTextAsync(Path.Combine(authority, "revoked.txt")), "nothing was revoked");
        Assert.IsFalse(File.Exists(Path.Combine(root, "silo-1.crt")), "nothing was signed");
    }

    /// <summary>For each name, a key and a signing request made in <paramref name="folder"/> (as on the silo) and signed by <paramref name="authority"/> (as by the admin).</summary>
    private static async Task CertifyAsync(string folder, string authority, params string[] names)
    {
        foreach (var name in names)
        {
            await RunAsync("ca", "request", "--name", name, "--out", folder);
            var signed = await RunAsync("ca", "sign", Path.Combine(folder, $"{name}.csr"), "--ca", authority);
            StringAssert.Contains(signed, $"{name}: serial ");
        }
    }

    private static async Task<PoolConnection> ConnectAsync(int gatewayPort, Dictionary<string, string> tls)
    {
        var settings = tls.Where(e => !e.Key.StartsWith("PoolAI__Client__", StringComparison.Ordinal)).ToDictionary(e => e.Key.Replace("__", ":", StringComparison.Ordinal), e => (string?)e.Value);
        settings["PoolAI:Client:Gateways"] = $"127.0.0.1:{gatewayPort}";
        settings["PoolAI:Client:ConnectTimeout"] = "00:00:15";
        return await PoolConnection.OpenAsync(new ConfigurationBuilder().AddInMemoryCollection(settings).Build()).WaitAsync(TimeSpan.FromSeconds(30));
    }

    private static async Task<string> RunAsync(params string[] args)
    {
        var outcome = await PoolaiProcess.RunAsync(args);
        Assert.AreEqual(0, outcome.ExitCode, $"poolai {string.Join(' ', args)}: {outcome.StandardError}");
        return outcome.StandardOutput;
    }

    private static async Task RefusedAsync(string expected, params string[] args)
    {
        var outcome = await PoolaiProcess.RunAsync(args);
        Assert.AreEqual(2, outcome.ExitCode, $"poolai {string.Join(' ', args)}: {outcome.StandardOutput} {outcome.StandardError}");
        StringAssert.Contains(outcome.StandardError, expected);
    }
}
