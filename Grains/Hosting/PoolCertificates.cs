using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace PoolAI.Hosting;

/// <summary>
/// The pool's own certificate authority for trusted silos, with <see cref="System.Security.Cryptography"/>: the admin
/// makes the authority once (<c>poolai ca init</c>), each trusted silo makes its own key and a signing request
/// (<c>poolai ca request</c>: the private key never leaves the silo), the admin signs the request
/// (<c>poolai ca sign</c>) and revokes a silo by its certificate's serial number (<c>poolai ca revoke</c>). Keys are
/// ECDSA P-256; certificates are PEM.
/// </summary>
public static class PoolCertificates
{
    /// <summary>File names in an authority's folder.</summary>
    public const string AuthorityCertificateFile = "ca.crt";

    /// <inheritdoc cref="AuthorityCertificateFile"/>
    public const string AuthorityKeyFile = "ca.key";

    /// <summary>The revocation list in an authority's folder: one revoked serial number (hex) per line.</summary>
    public const string RevocationListFile = "revoked.txt";

    /// <summary>How long an authority is valid.</summary>
    public static readonly TimeSpan AuthorityLifetime = TimeSpan.FromDays(3650);

    /// <summary>Longest lifetime of a silo certificate.</summary>
    public static readonly TimeSpan MaxSiloLifetime = TimeSpan.FromDays(825);

    /// <summary>A new self-signed authority named <paramref name="name"/>, with its private key.</summary>
    public static X509Certificate2 CreateAuthority(string name)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(new X500DistinguishedName($"CN={Escape(name)}"), key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: true, hasPathLengthConstraint: true, pathLengthConstraint: 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, critical: true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, critical: false));
        var now = DateTimeOffset.UtcNow;
        return request.CreateSelfSigned(now.AddMinutes(-5), now + AuthorityLifetime);
    }

    /// <summary>A new key for the silo named <paramref name="name"/> and its signing request (PEM); the key stays with the caller.</summary>
    /// <exception cref="ArgumentException">The name is empty, longer than 64 or not letters, digits, '.', '-'.</exception>
    public static (ECDsa Key, string RequestPem) CreateRequest(string name)
    {
        CheckName(name);
        var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(new X500DistinguishedName($"CN={name}"), key, HashAlgorithmName.SHA256);
        return (key, request.CreateSigningRequestPem());
    }

    /// <summary>
    /// Signs <paramref name="requestPem"/> with <paramref name="authority"/> for <paramref name="lifetime"/>: a silo
    /// certificate for TLS both ways (server and client authentication), named after the request's subject, with a
    /// random 128-bit serial number. Nothing the request asks for beyond its subject and key is copied.
    /// </summary>
    /// <exception cref="ArgumentException">Not a signing request, its signature does not verify, its name breaks the rule, or the lifetime is out of range.</exception>
    /// <param name="authority">The pool's authority, with its private key.</param>
    /// <param name="requestPem">The silo's signing request.</param>
    /// <param name="lifetime">How long the certificate is valid (at most <see cref="MaxSiloLifetime"/>, and never past the authority).</param>
    /// <param name="name">The silo's name to certify, when the signer decides it (an enrollment token names its silo); null takes the request's.</param>
    public static X509Certificate2 Sign(X509Certificate2 authority, string requestPem, TimeSpan lifetime, string? name = null)
    {
        if (lifetime <= TimeSpan.Zero || lifetime > MaxSiloLifetime)
            throw new ArgumentException($"lifetime: must be between 1 day and {MaxSiloLifetime.TotalDays:0} days; was {lifetime.TotalDays:0.#} days");
        CertificateRequest request;
        try
        {
            request = CertificateRequest.LoadSigningRequestPem(requestPem, HashAlgorithmName.SHA256, CertificateRequestLoadOptions.Default);
        }
        catch (CryptographicException ex)
        {
            throw new ArgumentException($"request: is not a certificate signing request whose signature verifies ({ex.Message})");
        }

        name ??= request.SubjectName.EnumerateRelativeDistinguishedNames()
            .Where(rdn => !rdn.HasMultipleElements && rdn.GetSingleElementType().Value == "2.5.4.3")
            .Select(rdn => rdn.GetSingleElementValue() ?? string.Empty)
            .FirstOrDefault() ?? string.Empty;
        CheckName(name);
        var silo = new CertificateRequest(new X500DistinguishedName($"CN={name}"), request.PublicKey, HashAlgorithmName.SHA256);
        silo.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: false, hasPathLengthConstraint: false, pathLengthConstraint: 0, critical: true));
        silo.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, critical: true));
        silo.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], critical: false));
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName(name);
        silo.CertificateExtensions.Add(names.Build());
        var now = DateTimeOffset.UtcNow;
        var notAfter = now + lifetime < authority.NotAfter ? now + lifetime : new DateTimeOffset(authority.NotAfter.ToUniversalTime());
        return silo.Create(authority, now.AddMinutes(-5), notAfter, RandomNumberGenerator.GetBytes(16));
    }

    /// <summary>
    /// True when <paramref name="presented"/> chains to <paramref name="authority"/> alone (the system's roots play no
    /// part), is within its validity, is meant for TLS, and its serial number is not in <paramref name="revoked"/>.
    /// </summary>
    public static bool IsTrusted(X509Certificate2 presented, X509Certificate2 authority, IReadOnlySet<string> revoked, out string? reason)
    {
        if (revoked.Contains(presented.SerialNumber))
        {
            reason = $"certificate {presented.SerialNumber} ({presented.GetNameInfo(X509NameType.SimpleName, false)}) is revoked";
            return false;
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(authority);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck; // the pool's own list, above
        chain.ChainPolicy.VerificationFlags = X509VerificationFlags.NoFlag;
        if (!chain.Build(presented))
        {
            reason = $"certificate {presented.GetNameInfo(X509NameType.SimpleName, false)} does not chain to the pool's authority: {string.Join("; ", chain.ChainStatus.Select(s => s.StatusInformation.Trim()))}";
            return false;
        }

        reason = null;
        return true;
    }

    /// <summary>Reads a revocation list: one serial number (hex, any case) per line; blank lines and lines starting with <c>#</c> are skipped. A missing file revokes nothing.</summary>
    public static IReadOnlySet<string> ReadRevocationList(string? path)
    {
        if (path is null || !File.Exists(path))
            return new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        return File.ReadLines(path)
            .Select(line => line.Trim())
            .Where(line => line.Length > 0 && !line.StartsWith('#'))
            .Select(line => line.Split(' ', 2)[0].ToUpperInvariant())
            .ToHashSet(StringComparer.OrdinalIgnoreCase);
    }

    /// <summary>Checks a silo name: 1 to 64 letters, digits, '.' or '-'.</summary>
    /// <exception cref="ArgumentException">It breaks the rule; the message names the field <c>name</c>.</exception>
    public static void CheckName(string name)
    {
        if (string.IsNullOrEmpty(name) || name.Length > 64 || !name.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-'))
            throw new ArgumentException($"name: must be 1 to 64 letters, digits, '.' or '-'; was '{name}'");
    }

    private static string Escape(string name) => name.Replace("\\", "\\\\", StringComparison.Ordinal).Replace(",", "\\,", StringComparison.Ordinal).Replace("=", "\\=", StringComparison.Ordinal);
}
