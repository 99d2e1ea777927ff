using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Configuration;
using Orleans.Connections.Security;
using PoolAI.Hosting;

namespace PoolAI.Silo.Hosting;

/// <summary>
/// TLS between silos and between clients and silos, as a configuration switch (section <c>PoolAI:Cluster:Tls</c>).
/// Every connection is TLS with mutual authentication, in one of two modes:
/// <list type="bullet">
/// <item><b>Pool authority</b> (<c>AuthorityPath</c> set): each silo and client presents a certificate of its own
/// (<c>CertificatePath</c>, PEM with <c>KeyPath</c>, or PKCS #12 with <c>CertificatePassword</c>) signed by the pool's
/// authority (<see cref="PoolCertificates"/>); a peer is accepted only when its certificate chains to that authority
/// and its serial number is not on the revocation list (<c>RevocationListPath</c>, read again whenever the file
/// changes), so a revoked silo is refused at its next connection.</item>
/// <item><b>One shared certificate</b> (no <c>AuthorityPath</c>): a peer is accepted only when it presents the same
/// certificate (pinned by thumbprint), e.g. from <c>config/dev-cert.sh</c>.</item>
/// </list>
/// Unset: plain TCP (a private network).
/// </summary>
public static class PoolTls
{
    /// <summary>Configuration section.</summary>
    public const string Section = "PoolAI:Cluster:Tls";

    /// <summary>This process's certificate with its private key, or null when TLS is off.</summary>
    /// <exception cref="PoolConfigurationException">A file is missing or cannot be read.</exception>
    public static X509Certificate2? Certificate(IConfiguration configuration)
    {
        if (configuration[$"{Section}:CertificatePath"] is not { Length: > 0 } path)
            return null;
        if (!File.Exists(path))
            throw new PoolConfigurationException($"{Section}:CertificatePath", $"no certificate file at {path}");
        try
        {
            X509Certificate2 certificate;
            if (configuration[$"{Section}:KeyPath"] is { Length: > 0 } keyPath)
            {
                if (!File.Exists(keyPath))
                    throw new PoolConfigurationException($"{Section}:KeyPath", $"no key file at {keyPath}");
                using var pem = X509Certificate2.CreateFromPemFile(path, keyPath);
                // SslStream on some platforms wants a key it can export to its own store: round-trip through PKCS #12.
                certificate = X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
            }
            else
            {
                certificate = X509CertificateLoader.LoadPkcs12FromFile(path, configuration[$"{Section}:CertificatePassword"]);
            }

            return certificate.HasPrivateKey ? certificate : throw new PoolConfigurationException($"{Section}:CertificatePath", $"{path} has no private key");
        }
        catch (System.Security.Cryptography.CryptographicException ex)
        {
            throw new PoolConfigurationException(configuration[$"{Section}:KeyPath"] is { Length: > 0 } ? $"{Section}:KeyPath" : $"{Section}:CertificatePassword", $"cannot read {path}: {ex.Message}");
        }
    }

    /// <summary>Turns TLS on for this silo when configured.</summary>
    public static ISiloBuilder UsePoolTls(this ISiloBuilder silo, IConfiguration configuration) =>
        Certificate(configuration) is { } certificate ? silo.UseTls(certificate, options => Configure(options, certificate, configuration)) : silo;

    /// <summary>Turns TLS on for this client when configured.</summary>
    public static IClientBuilder UsePoolTls(this IClientBuilder client, IConfiguration configuration) =>
        Certificate(configuration) is { } certificate ? client.UseTls(certificate, options => Configure(options, certificate, configuration)) : client;

    private static void Configure(TlsOptions options, X509Certificate2 certificate, IConfiguration configuration)
    {
        options.RemoteCertificateMode = RemoteCertificateMode.RequireCertificate;
        options.ClientCertificateMode = RemoteCertificateMode.RequireCertificate;
        options.OnAuthenticateAsClient = (_, client) => client.TargetHost = certificate.GetNameInfo(X509NameType.SimpleName, forIssuer: false);
        if (configuration[$"{Section}:AuthorityPath"] is { Length: > 0 } authorityPath)
        {
            if (!File.Exists(authorityPath))
                throw new PoolConfigurationException($"{Section}:AuthorityPath", $"no authority certificate at {authorityPath}");
            var authority = X509CertificateLoader.LoadCertificateFromFile(authorityPath);
            if (!PoolCertificates.IsTrusted(certificate, authority, new HashSet<string>(), out var reason))
                throw new PoolConfigurationException($"{Section}:CertificatePath", $"this process's own certificate is not the pool authority's: {reason}");
            var revoked = new RevocationList(configuration[$"{Section}:RevocationListPath"]);
            options.RemoteCertificateValidation = (remote, _, _) =>
                remote is not null && PoolCertificates.IsTrusted(remote as X509Certificate2 ?? X509CertificateLoader.LoadCertificate(remote.GetRawCertData()), authority, revoked.Current, out _);
        }
        else
        {
            options.RemoteCertificateValidation = (remote, _, _) => remote is not null && string.Equals(remote.Thumbprint, certificate.Thumbprint, StringComparison.OrdinalIgnoreCase);
        }
    }

    /// <summary>The revocation list file, read again when its last write time changes (checked at most once a second).</summary>
    private sealed class RevocationList(string? path)
    {
        private readonly Lock _gate = new();
        private IReadOnlySet<string> _serials = PoolCertificates.ReadRevocationList(path);
        private DateTime _written = path is not null && File.Exists(path) ? File.GetLastWriteTimeUtc(path) : DateTime.MinValue;
        private long _checked = Environment.TickCount64;

        public IReadOnlySet<string> Current
        {
            get
            {
                if (path is null)
                    return _serials;
                lock (_gate)
                {
                    if (Environment.TickCount64 - _checked < 1000)
                        return _serials;
                    _checked = Environment.TickCount64;
                    var written = File.Exists(path) ? File.GetLastWriteTimeUtc(path) : DateTime.MinValue;
                    if (written != _written)
                    {
                        _serials = PoolCertificates.ReadRevocationList(path);
                        _written = written;
                    }

                    return _serials;
                }
            }
        }
    }
}
