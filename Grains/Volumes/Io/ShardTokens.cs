using System.Buffers.Text;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace PoolAI.Volumes;

/// <summary>
/// Shard tokens: what a writer or reader shows a trusted silo's shard transport to put or get shards of one volume.
/// A token is <c>base64url(VOLUME \n ACCESS \n EXPIRES \n WRITE) . base64url(HMAC-SHA256(key, that))</c>, ACCESS
/// <c>r</c> (get) or <c>rw</c> (put and get), EXPIRES Unix seconds, WRITE empty or a write id (32 hex digits) that puts
/// are confined to (a writer's token puts only its own write's shards; the rebuild's token is volume-wide); the key is derived from the pool's volume master key (HKDF-SHA256,
/// RFC 5869, info <see cref="KeyInfo"/>), so coordinators issue tokens and trusted silos check them without a token
/// store. Volumes issue them with a write grant (<c>rw</c>, for the write lease) and with a file's layout (<c>r</c>).
/// </summary>
public static class ShardTokens
{
    /// <summary>HTTP header that carries the token.</summary>
    public const string Header = "X-PoolAI-Shard-Token";

    /// <summary>HKDF info string of the signing key.</summary>
    public const string KeyInfo = "poolai shard transport v1";

    /// <summary>The 32-byte signing key derived from the 32-byte volume master key.</summary>
    public static byte[] DeriveKey(byte[] masterKey) =>
        HKDF.DeriveKey(HashAlgorithmName.SHA256, masterKey, 32, info: Encoding.UTF8.GetBytes(KeyInfo));

    /// <summary>
    /// A token for <paramref name="volume"/>: get only, or put and get with <paramref name="write"/>, until
    /// <paramref name="expires"/>; with <paramref name="writeId"/>, puts only of that write's shards.
    /// </summary>
    public static string Issue(byte[] key, string volume, bool write, DateTimeOffset expires, Guid? writeId = null)
    {
        var payload = Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{volume}\n{(write ? "rw" : "r")}\n{expires.ToUnixTimeSeconds()}\n{writeId?.ToString("N")}"));
        return $"{Base64Url.EncodeToString(payload)}.{Base64Url.EncodeToString(HMACSHA256.HashData(key, payload))}";
    }

    /// <summary>
    /// Null when <paramref name="token"/> allows the access on <paramref name="volume"/> at <paramref name="now"/> (a put:
    /// <paramref name="write"/>, of a shard of write <paramref name="shardWrite"/>), else why not.
    /// </summary>
    public static string? Check(byte[] key, string? token, string volume, bool write, DateTimeOffset now, Guid shardWrite = default)
    {
        if (string.IsNullOrEmpty(token))
            return $"no shard token (header {Header})";
        var dot = token.IndexOf('.');
        if (dot <= 0)
            return "the shard token's signature does not match (not issued by this pool)"; // no signature part at all
        byte[] payload, mac;
        try
        {
            payload = Base64Url.DecodeFromChars(token.AsSpan(0, dot));
            mac = Base64Url.DecodeFromChars(token.AsSpan(dot + 1));
        }
        catch (FormatException)
        {
            return "the shard token is not base64url";
        }

        if (!CryptographicOperations.FixedTimeEquals(mac, HMACSHA256.HashData(key, payload)))
            return "the shard token's signature does not match (not issued by this pool)";
        var parts = Encoding.UTF8.GetString(payload).Split('\n');
        if (parts.Length != 4 || !long.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out var expires)
            || (parts[3].Length > 0 && !Guid.TryParseExact(parts[3], "N", out _)))
            return "the shard token is malformed";
        if (parts[0] != volume)
            return $"the shard token is for volume '{parts[0]}', not '{volume}'";
        if (write && parts[1] != "rw")
            return "the shard token allows reads only";
        if (write && parts[3].Length > 0 && Guid.ParseExact(parts[3], "N") != shardWrite)
            return $"the shard token puts only shards of write {parts[3]}";
        if (now.ToUnixTimeSeconds() > expires)
            return $"the shard token expired at {DateTimeOffset.FromUnixTimeSeconds(expires):u}";
        return null;
    }
}
