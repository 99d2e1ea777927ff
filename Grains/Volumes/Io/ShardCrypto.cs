using System.Security.Cryptography;
using System.Text;

namespace PoolAI.Volumes;

/// <summary>
/// Encryption at rest of one shard: AES-256-GCM with the volume's data key, a random 96-bit nonce per shard, and the
/// shard id as associated data (so a shard cannot be passed off as another). Stored form: nonce (12) ‖ ciphertext ‖ tag (16).
/// </summary>
public static class ShardCrypto
{
    /// <summary>Bytes encryption adds to a shard: nonce and tag.</summary>
    public const int OverheadBytes = 12 + 16;

    /// <summary>Encrypts <paramref name="plaintext"/> as shard <paramref name="shardId"/>.</summary>
    public static byte[] Encrypt(byte[] key, string shardId, ReadOnlySpan<byte> plaintext)
    {
        var stored = new byte[plaintext.Length + OverheadBytes];
        RandomNumberGenerator.Fill(stored.AsSpan(0, 12));
        using var aes = new AesGcm(key, 16);
        aes.Encrypt(stored.AsSpan(0, 12), plaintext, stored.AsSpan(12, plaintext.Length), stored.AsSpan(12 + plaintext.Length), Encoding.UTF8.GetBytes(shardId));
        return stored;
    }

    /// <summary>Decrypts stored shard <paramref name="shardId"/>.</summary>
    /// <exception cref="AuthenticationTagMismatchException">The bytes, the id or the key are not the ones it was encrypted with.</exception>
    /// <exception cref="CryptographicException">Shorter than <see cref="OverheadBytes"/>.</exception>
    public static byte[] Decrypt(byte[] key, string shardId, ReadOnlySpan<byte> stored)
    {
        if (stored.Length < OverheadBytes)
            throw new CryptographicException($"an encrypted shard has at least {OverheadBytes} bytes (got {stored.Length})");
        var plaintext = new byte[stored.Length - OverheadBytes];
        using var aes = new AesGcm(key, 16);
        aes.Decrypt(stored[..12], stored.Slice(12, plaintext.Length), stored[(12 + plaintext.Length)..], plaintext, Encoding.UTF8.GetBytes(shardId));
        return plaintext;
    }
}
