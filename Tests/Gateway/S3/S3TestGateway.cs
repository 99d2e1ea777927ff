using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Amazon.Runtime;
using Amazon.S3;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using PoolAI.Auth;
using PoolAI.Client.Sdk;
using PoolAI.Gateway.Auth;
using PoolAI.Gateway.Binding;
using PoolAI.Gateway.Jobs;
using PoolAI.Gateway.S3;

namespace PoolAI.Tests.Gateway.S3;

/// <summary>
/// The gateway's HTTP pipeline as Program.cs builds it — request errors, status pages, authentication (API keys,
/// JWTs, SigV4), authorization, rate limits, the JSON body check with its 1 MiB body limit — with
/// <c>MapS3Api</c> over an <see cref="InMemoryS3ObjectStore"/>, on a loopback port (and an HTTPS one with a
/// self-signed certificate), its API keys in the shared test cluster.
/// </summary>
public sealed class S3TestGateway : IAsyncDisposable
{
    /// <summary>The S3 master secret the gateway is started with.</summary>
    public static readonly byte[] MasterSecret = Enumerable.Range(1, 32).Select(i => (byte)(i * 3)).ToArray();

    private readonly WebApplication _app;

    private S3TestGateway(WebApplication app, System.Collections.Concurrent.ConcurrentQueue<(string, string, string, string)> seen, InMemoryS3ObjectStore? store, PoolClient pool, Uri http, Uri https)
    {
        _app = app;
        Seen = seen;
        Store = store;
        Pool = pool;
        Http = http;
        Https = https;
    }

    /// <summary>How each request so far sent its body: method, path, <c>x-amz-content-sha256</c>, <c>x-amz-trailer</c> (as the SDK chose them).</summary>
    public System.Collections.Concurrent.ConcurrentQueue<(string Method, string Path, string PayloadHash, string Trailer)> Seen { get; }

    /// <summary>The objects (null when the gateway was started without a store).</summary>
    public InMemoryS3ObjectStore? Store { get; }

    /// <summary>The pool its keys live in.</summary>
    public PoolClient Pool { get; }

    /// <summary>http://127.0.0.1:PORT/</summary>
    public Uri Http { get; }

    /// <summary>https://127.0.0.1:PORT/ (a self-signed certificate).</summary>
    public Uri Https { get; }

    /// <summary>Starts a gateway; <paramref name="time"/> replaces the clock; the rate limit is <paramref name="permitsPerSecond"/>/s in bursts of <paramref name="burst"/>.</summary>
    public static async Task<S3TestGateway> StartAsync(TimeProvider? time = null, int permitsPerSecond = 1000, int burst = 1000, bool withStore = true, string keyRecheck = "00:00:05")
    {
        var cluster = await SharedPool.ClusterAsync();
        var root = Directory.CreateTempSubdirectory("s3-gateway-").FullName;
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { ContentRootPath = root, EnvironmentName = "Production" });
        builder.Logging.ClearProviders();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["PoolAI:Gateway:Auth:SigningKey"] = Convert.ToBase64String(Enumerable.Range(1, 32).Select(i => (byte)(i * 5)).ToArray()),
            ["PoolAI:Gateway:RateLimit:PermitsPerSecond"] = permitsPerSecond.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["PoolAI:Gateway:RateLimit:Burst"] = burst.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["PoolAI:Gateway:S3:Secret"] = Convert.ToBase64String(MasterSecret),
            ["PoolAI:Gateway:S3:KeyRecheckInterval"] = keyRecheck,
        });
        using var certificate = SelfSigned();
        var pfx = X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pfx), null);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Listen(IPAddress.Loopback, 0);
            kestrel.Listen(IPAddress.Loopback, 0, listen => listen.UseHttps(pfx));
            // The gateway's default JSON body limit: S3 bodies must get past it.
            kestrel.Limits.MaxRequestBodySize = 1024 * 1024;
        });
        builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower);
        builder.Services.AddProblemDetails();
        builder.Services.AddSingleton<IGrainFactory>(cluster.Client);
        if (time is not null)
            builder.Services.AddSingleton(time);
        builder.Services.AddGatewayAuth(builder.Configuration);
        builder.Services.AddGatewayRateLimits(builder.Configuration);
        builder.Services.AddS3Api(builder.Configuration);
        InMemoryS3ObjectStore? store = null;
        if (withStore)
        {
            store = new InMemoryS3ObjectStore();
            builder.Services.AddSingleton<IS3ObjectStore>(store);
        }

        var app = builder.Build();
        var seen = new System.Collections.Concurrent.ConcurrentQueue<(string, string, string, string)>();
        app.Use((context, next) =>
        {
            seen.Enqueue((context.Request.Method, context.Request.Path.Value ?? "", context.Request.Headers["x-amz-content-sha256"].ToString(), context.Request.Headers["x-amz-trailer"].ToString()));
            return next(context);
        });
        app.UseRequestErrors();
        app.UseStatusCodePages();
        app.UseAuthentication();
        app.UseAuthorization();
        app.UseRateLimiter();
        app.UseJsonBodyTextCheck();
        app.MapS3Api();
        await app.StartAsync();
        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
        return new S3TestGateway(app, seen, store, new PoolClient(cluster.Client),
            new Uri(addresses.Single(a => a.StartsWith("http://", StringComparison.Ordinal)) + "/"),
            new Uri(addresses.Single(a => a.StartsWith("https://", StringComparison.Ordinal)) + "/"));
    }

    /// <summary>A new API key with <paramref name="role"/>: its id and its S3 credentials.</summary>
    public async Task<(string KeyId, string Key, BasicAWSCredentials Credentials)> KeyAsync(string role = ApiRoles.Developer)
    {
        var (view, key) = await Pool.CreateApiKeyAsync(role, $"s3-test-{role}");
        return (view.Id, key, new BasicAWSCredentials(S3Credentials.AccessKeyIdOf(view.Id), S3Credentials.SecretFor(MasterSecret, view.Id)));
    }

    /// <summary>An S3 client of the official SDK for this gateway (path-style, no retries), over HTTP or HTTPS.</summary>
    public AmazonS3Client Client(AWSCredentials credentials, bool https = false, Action<AmazonS3Config>? configure = null)
    {
        var config = new AmazonS3Config
        {
            ServiceURL = new Uri(https ? Https : Http, "s3").ToString(),
            ForcePathStyle = true,
            AuthenticationRegion = "us-east-1",
            MaxErrorRetry = 0,
            DisableClockSkewCorrection = true,
        };
        if (https)
            config.HttpClientFactory = new TrustingHttpClientFactory();
        configure?.Invoke(config);
        return new AmazonS3Client(credentials, config);
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private static X509Certificate2 SelfSigned()
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
    }

    /// <summary>HTTP clients for the SDK that trust the test gateway's self-signed certificate.</summary>
    private sealed class TrustingHttpClientFactory : HttpClientFactory
    {
        public override HttpClient CreateHttpClient(IClientConfig clientConfig) =>
            new(new HttpClientHandler { ServerCertificateCustomValidationCallback = HttpClientHandler.DangerousAcceptAnyServerCertificateValidator });
    }
}
