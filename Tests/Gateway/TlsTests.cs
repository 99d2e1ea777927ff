using System.Diagnostics;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Configuration;
using PoolAI.Benchmarks.Failover;
using PoolAI.Client.Sdk;

namespace PoolAI.Tests.Gateway;

/// <summary>
/// A development certificate from <c>config/dev-cert.sh</c> serves HTTPS on the gateway and TLS on its Orleans gateway
/// port: a client with the pool certificate connects, one without it does not.
/// </summary>
[TestClass]
[DoNotParallelize]
public sealed class TlsTests
{
    private static string RepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "PoolAI.Orleans.sln")))
            directory = directory.Parent;
        return directory?.FullName ?? throw new DirectoryNotFoundException("PoolAI.Orleans.sln not found above the test binaries");
    }

    [TestMethod]
    public async Task GatewayServesHttpsAndTheClusterSpeaksTlsWithTheDevCertificate()
    {
        var certificates = Path.Combine(Path.GetTempPath(), $"poolai-certs-{Guid.NewGuid():N}");
        const string password = "test-password";
        var script = new ProcessStartInfo("bash", [Path.Combine(RepositoryRoot(), "config", "dev-cert.sh"), certificates]) { RedirectStandardOutput = true, RedirectStandardError = true };
        script.Environment["DEV_CERT_PASSWORD"] = password;
        using (var run = Process.Start(script)!)
        {
            var output = await run.StandardOutput.ReadToEndAsync();
            await run.WaitForExitAsync();
            Assert.AreEqual(0, run.ExitCode, await run.StandardError.ReadToEndAsync());
            StringAssert.Contains(output, "PoolAI__Cluster__Tls__CertificatePath=");
        }

        var pfx = Path.Combine(certificates, "poolai-dev.pfx");
        using var certificate = X509CertificateLoader.LoadPkcs12FromFile(pfx, password);
        var httpsPort = PoolProcess.FreePort();
        var gatewayPort = PoolProcess.FreePort();
        using var gateway = PoolProcess.Start("PoolAI.Gateway.dll", PoolProcess.FreePort(), gatewayPort, new Dictionary<string, string>
        {
            ["Kestrel__Endpoints__Https__Url"] = $"https://127.0.0.1:{httpsPort}",
            ["Kestrel__Endpoints__Https__Certificate__Path"] = pfx,
            ["Kestrel__Endpoints__Https__Certificate__Password"] = password,
            ["PoolAI__Cluster__Tls__CertificatePath"] = pfx,
            ["PoolAI__Cluster__Tls__CertificatePassword"] = password,
        });
        await gateway.WaitForLogAsync("Application started", TimeSpan.FromMinutes(2));

        using var handler = new HttpClientHandler { ServerCertificateCustomValidationCallback = (_, presented, _, _) => presented?.Thumbprint == certificate.Thumbprint };
        using var https = new HttpClient(handler) { BaseAddress = new Uri($"https://127.0.0.1:{httpsPort}/") };
        Assert.AreEqual(HttpStatusCode.OK, (await https.GetAsync("healthz")).StatusCode);

        var withTls = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["PoolAI:Client:Gateways"] = $"127.0.0.1:{gatewayPort}",
            ["PoolAI:Cluster:Tls:CertificatePath"] = pfx,
            ["PoolAI:Cluster:Tls:CertificatePassword"] = password,
        }).Build();
        await using (var connection = await PoolConnection.OpenAsync(withTls))
        {
            var (_, key) = await connection.Client.CreateApiKeyAsync("developer", "tls test");
            https.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", key);
            Assert.AreEqual(HttpStatusCode.OK, (await https.GetAsync("v1/models")).StatusCode);
        }

        var withoutTls = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["PoolAI:Client:Gateways"] = $"127.0.0.1:{gatewayPort}" }).Build();
        await Assert.ThrowsAsync<Exception>(async () =>
        {
            await using var connection = await PoolConnection.OpenAsync(withoutTls).WaitAsync(TimeSpan.FromSeconds(15));
            await connection.Client.ListApiKeysAsync().WaitAsync(TimeSpan.FromSeconds(15));
        });
    }
}
