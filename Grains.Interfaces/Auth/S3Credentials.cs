using System.Security.Cryptography;
using System.Text;

namespace PoolAI.Auth;

/// <summary>
/// The S3 credentials of an API key. AWS Signature Version 4 needs a secret the server can compute the signing key
/// from, and the pool keeps only hashes of its keys, so the S3 secret is derived from the key's id and the gateway's
/// S3 master secret: access key id <c>PAI</c> + the key's 12-hex-digit id in upper case (15 characters; the id back
/// is <see cref="KeyIdOf"/>), secret access key base64url(HMAC-SHA256(master secret, <c>"s3:" + id</c>)) (43
/// characters). The credentials live as long as the key: revoking the key revokes them.
/// </summary>
public static class S3Credentials
{
    /// <summary>Every access key id starts with this.</summary>
    public const string AccessKeyPrefix = "PAI";

    /// <summary>Fewest bytes of master secret.</summary>
    public const int MinSecretBytes = 32;

    /// <summary>The access key id of API key <paramref name="keyId"/> (12 lower-case hex digits).</summary>
    /// <exception cref="ArgumentException"><paramref name="keyId"/> is not 12 lower-case hex digits.</exception>
    public static string AccessKeyIdOf(string keyId) => IsKeyId(keyId)
        ? AccessKeyPrefix + keyId.ToUpperInvariant()
        : throw new ArgumentException($"keyId must be 12 lower-case hex digits; was '{keyId}'", nameof(keyId));

    /// <summary>The API key id an access key id names (any case), or null when it is not shaped like one.</summary>
    public static string? KeyIdOf(string? accessKeyId)
    {
        if (accessKeyId is not { Length: 15 } || !accessKeyId.StartsWith(AccessKeyPrefix, StringComparison.OrdinalIgnoreCase))
            return null;
        var id = accessKeyId[AccessKeyPrefix.Length..].ToLowerInvariant();
        return IsKeyId(id) ? id : null;
    }

    /// <summary>The secret access key of API key <paramref name="keyId"/> under <paramref name="masterSecret"/> (at least <see cref="MinSecretBytes"/> bytes).</summary>
    /// <exception cref="ArgumentException">The key id is malformed or the master secret too short.</exception>
    public static string SecretFor(ReadOnlySpan<byte> masterSecret, string keyId)
    {
        if (!IsKeyId(keyId))
            throw new ArgumentException($"keyId must be 12 lower-case hex digits; was '{keyId}'", nameof(keyId));
        if (masterSecret.Length < MinSecretBytes)
            throw new ArgumentException($"the S3 master secret must be at least {MinSecretBytes} bytes; was {masterSecret.Length}", nameof(masterSecret));
        var mac = HMACSHA256.HashData(masterSecret, Encoding.ASCII.GetBytes("s3:" + keyId));
        return Convert.ToBase64String(mac).TrimEnd('=').Replace('+', '-').Replace('/', '_');
    }

    private static bool IsKeyId(string? id) => id is { Length: 12 } && id.All(char.IsAsciiHexDigitLower);
}
