using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Configuration;
using Orleans.Connections.Security;

namespace PoolAI.Silo.Hosting;

/// <summary>
/// TLS between silos and between clients and silos, as a configuration switch (section <c>PoolAI:Cluster:Tls</c>):
/// with <c>CertificatePath</c> (a PKCS #12 file, e.g. from <c>config/dev-cert.sh</c>) and <c>CertificatePassword</c>,
/// every connection is TLS with mutual authentication, and a peer is accepted only when it presents the same pool
/// certificate (pinned by thumbprint), so a self-signed certificate shared by the pool's machines is enough. Unset: plain
/// TCP (a private network).
/// </summary>
public static class PoolTls
{
    /// <summary>Configuration section.</summary>
    public const string Section = "PoolAI:Cluster:Tls";

    /// <summary>The pool certificate, or null when TLS is off.</summary>
    /// <exception cref="PoolConfigurationException">The file is missing or cannot be read with the password.</exception>
    public static X509Certificate2? Certificate(IConfiguration configuration)
    {
        if (configuration[$"{Section}:CertificatePath"] is not { Length: > 0 } path)
            return null;
        if (!File.Exists(path))
            throw new PoolConfigurationException($"{Section}:CertificatePath", $"no certificate file at {path}");
        try
        {
            var certificate = X509CertificateLoader.LoadPkcs12FromFile(path, configuration[$"{Section}:CertificatePassword"]);
            return certificate.HasPrivateKey ? certificate : throw new PoolConfigurationException($"{Section}:CertificatePath", $"{path} has no private key");
        }
        catch (System.Security.Cryptography.CryptographicException ex)
        {
            throw new PoolConfigurationException($"{Section}:CertificatePassword", $"cannot read {path}: {ex.Message}");
        }
    }

    /// <summary>Turns TLS on for this silo when configured.</summary>
    public static ISiloBuilder UsePoolTls(this ISiloBuilder silo, IConfiguration configuration) =>
        Certificate(configuration) is { } certificate ? silo.UseTls(certificate, options => Pin(options, certificate)) : silo;

    /// <summary>Turns TLS on for this client when configured.</summary>
    public static IClientBuilder UsePoolTls(this IClientBuilder client, IConfiguration configuration) =>
        Certificate(configuration) is { } certificate ? client.UseTls(certificate, options => Pin(options, certificate)) : client;

    private static void Pin(TlsOptions options, X509Certificate2 certificate)
    {
        options.RemoteCertificateMode = RemoteCertificateMode.RequireCertificate;
        options.ClientCertificateMode = RemoteCertificateMode.RequireCertificate;
        options.RemoteCertificateValidation = (remote, _, _) => remote is not null && string.Equals(remote.Thumbprint, certificate.Thumbprint, StringComparison.OrdinalIgnoreCase);
        options.OnAuthenticateAsClient = (_, client) => client.TargetHost = certificate.GetNameInfo(X509NameType.SimpleName, forIssuer: false);
    }
}
