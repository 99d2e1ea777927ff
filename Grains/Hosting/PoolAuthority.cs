using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Configuration;

namespace PoolAI.Hosting;

/// <summary>
/// The pool's certificate authority as a coordinator holds it to sign enrollments: <c>PoolAI:Cluster:Tls:AuthorityPath</c>
/// (its certificate) and <c>PoolAI:Cluster:Tls:AuthorityKeyPath</c> (its private key, PEM). Without the key this silo
/// signs nothing; read once, when first needed.
/// </summary>
public sealed class PoolAuthority(IConfiguration configuration)
{
    /// <summary>Configuration key of the authority's private key.</summary>
    public const string KeyPathKey = "PoolAI:Cluster:Tls:AuthorityKeyPath";

    private readonly Lazy<X509Certificate2?> _authority = new(() =>
        configuration["PoolAI:Cluster:Tls:AuthorityPath"] is { Length: > 0 } certificate && configuration[KeyPathKey] is { Length: > 0 } key
            ? X509Certificate2.CreateFromPemFile(certificate, key)
            : null);

    /// <summary>Lifetime of the certificates it signs at enrollment.</summary>
    public static readonly TimeSpan EnrolledLifetime = TimeSpan.FromDays(365);

    /// <summary>The authority with its key, or null when this silo has none configured.</summary>
    public X509Certificate2? Certificate => _authority.Value;
}
