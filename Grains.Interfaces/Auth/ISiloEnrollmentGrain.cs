using System.Security.Cryptography;
using System.Text;

namespace PoolAI.Auth;

/// <summary>
/// Enrollment tokens: <c>pet_ID_SECRET</c>, a 12-hex-digit id and 32 random bytes (base64url), made by an admin for
/// one trusted silo and good for one enrollment before it expires. The pool keeps only the SHA-256 of the token.
/// </summary>
public static class EnrollmentTokens
{
    /// <summary>Every token starts with this.</summary>
    public const string Prefix = "pet_";

    /// <summary>Longest time a token may be valid.</summary>
    public static readonly TimeSpan MaxLifetime = TimeSpan.FromDays(7);

    /// <summary>A new random token and its id.</summary>
    public static (string Id, string Token) Generate()
    {
        var id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
        var secret = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        return (id, $"{Prefix}{id}_{secret}");
    }

    /// <summary>The id of <paramref name="token"/>, or null when it is not shaped like one.</summary>
    public static string? IdOf(string? token)
    {
        if (token is null || !token.StartsWith(Prefix, StringComparison.Ordinal) || token.Length < Prefix.Length + 14 || token[Prefix.Length + 12] != '_')
            return null;
        var id = token.Substring(Prefix.Length, 12);
        return id.All(char.IsAsciiHexDigitLower) ? id : null;
    }

    /// <summary>SHA-256 of the token, lower-case hex.</summary>
    public static string Hash(string token) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)));
}

/// <summary>
/// One enrollment token, keyed by its id, on a coordinator: an admin creates it for a silo's name; a silo redeems it
/// once, before it expires, with a certificate signing request, and gets a certificate of the pool's authority for that
/// name. The silo's private key never leaves the silo.
/// </summary>
[Alias("poolai.ISiloEnrollmentGrain")]
public interface ISiloEnrollmentGrain : IGrainWithStringKey
{
    /// <summary>Stores a new token by its hash, for the silo <paramref name="name"/>, valid until <paramref name="expiresAt"/>.</summary>
    /// <exception cref="Jobs.JobValidationException">The name breaks the rule (field <c>name</c>), the lifetime is over <see cref="EnrollmentTokens.MaxLifetime"/> (<c>ttl</c>), or the id is taken (<c>id</c>).</exception>
    [Alias("Create")]
    Task<EnrollmentTokenView> CreateAsync(string hash, string name, DateTimeOffset expiresAt);

    /// <summary>
    /// Redeems the token whose hash is <paramref name="hash"/>: signs <paramref name="requestPem"/> for the token's
    /// silo name with the pool's authority, and marks the token used. Nothing changes when it throws.
    /// </summary>
    /// <exception cref="Jobs.JobValidationException">Field <c>token</c>: unknown, already used, or expired; field
    /// <c>request</c>: not a signing request whose signature verifies; field <c>authority</c>: this pool signs no certificates.</exception>
    [Alias("Redeem")]
    Task<SiloEnrollment> RedeemAsync(string hash, string requestPem);

    /// <summary>The token, or null when there is none with this id.</summary>
    [Alias("Get")]
    Task<EnrollmentTokenView?> GetAsync();
}

/// <summary>An enrollment token as the pool keeps it: never the token itself.</summary>
/// <param name="Id">The token's public id.</param>
/// <param name="Name">The silo name it certifies.</param>
/// <param name="CreatedAt">When it was created.</param>
/// <param name="ExpiresAt">When it stops being good.</param>
/// <param name="UsedAt">When a silo redeemed it; null while unused.</param>
/// <param name="Serial">Serial number of the certificate issued with it; null while unused.</param>
[GenerateSerializer, Immutable, Alias("poolai.EnrollmentTokenView")]
public sealed record EnrollmentTokenView(
    [property: Id(0)] string Id,
    [property: Id(1)] string Name,
    [property: Id(2)] DateTimeOffset CreatedAt,
    [property: Id(3)] DateTimeOffset ExpiresAt,
    [property: Id(4)] DateTimeOffset? UsedAt,
    [property: Id(5)] string? Serial);

/// <summary>What an enrolled silo gets.</summary>
/// <param name="Name">Its name, as certified.</param>
/// <param name="CertificatePem">Its certificate.</param>
/// <param name="AuthorityPem">The pool authority's certificate, to trust peers by.</param>
/// <param name="Serial">The certificate's serial number (hex), by which it is revoked.</param>
/// <param name="NotAfter">When the certificate expires.</param>
[GenerateSerializer, Immutable, Alias("poolai.SiloEnrollment")]
public sealed record SiloEnrollment(
    [property: Id(0)] string Name,
    [property: Id(1)] string CertificatePem,
    [property: Id(2)] string AuthorityPem,
    [property: Id(3)] string Serial,
    [property: Id(4)] DateTimeOffset NotAfter);
