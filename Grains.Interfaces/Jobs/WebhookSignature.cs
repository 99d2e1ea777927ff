using System.Security.Cryptography;
using System.Text;

namespace PoolAI.Jobs;

/// <summary>
/// Webhook signatures. Each requester has its own secret, <c>hex(HMAC-SHA256(pool key, requester))</c>, which the
/// gateway tells it (<c>GET /api/webhooks/secret</c>). A delivery carries
/// <c>PoolAI-Signature: t=UNIX_SECONDS,v1=hex(HMAC-SHA256(secret, "UNIX_SECONDS.BODY"))</c>: the timestamp is signed
/// with the body, so a receiver that also checks the time (for example within 5 minutes) refuses replays (the scheme
/// Stripe documents for its webhooks).
/// </summary>
public static class WebhookSignature
{
    /// <summary>The signature header.</summary>
    public const string Header = "PoolAI-Signature";

    /// <summary>The requester's signing secret, as hex text.</summary>
    public static string SecretFor(byte[] poolKey, string requester) =>
        Convert.ToHexStringLower(HMACSHA256.HashData(poolKey, Encoding.UTF8.GetBytes(requester)));

    /// <summary>The header value for <paramref name="body"/> sent at <paramref name="timestamp"/> (Unix seconds).</summary>
    public static string Sign(string secret, long timestamp, string body) =>
        $"t={timestamp},v1={Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes($"{timestamp}.{body}")))}";

    /// <summary>Whether <paramref name="header"/> signs <paramref name="body"/> with <paramref name="secret"/>, at most <paramref name="tolerance"/> from <paramref name="now"/>.</summary>
    public static bool Verify(string secret, string? header, string body, DateTimeOffset now, TimeSpan tolerance)
    {
        if (header is null)
            return false;
        var parts = header.Split(',').Select(p => p.Split('=', 2)).Where(p => p.Length == 2).ToDictionary(p => p[0], p => p[1]);
        if (!parts.TryGetValue("t", out var t) || !long.TryParse(t, out var timestamp) || !parts.TryGetValue("v1", out var given))
            return false;
        if ((now - DateTimeOffset.FromUnixTimeSeconds(timestamp)).Duration() > tolerance)
            return false;
        var expected = Sign(secret, timestamp, body);
        return CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(expected), Encoding.ASCII.GetBytes($"t={t},v1={given}"));
    }
}
