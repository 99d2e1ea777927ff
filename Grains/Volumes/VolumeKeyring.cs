using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Configuration;
using PoolAI.Hosting;

namespace PoolAI.Volumes;

/// <summary>
/// The pool's volume master key, which wraps each volume's data key (AES-256-GCM, the volume name as associated data):
/// from <c>PoolAI:Volumes:MasterKey</c> (base64 of 32 bytes; every coordinator of a cluster needs the same one) or else
/// the secret <c>volumes.key</c> in the pool home, created on first use. Only coordinators hold it; a data key leaves a
/// coordinator only for the pool's trusted readers and writers (cluster clients: the gateway, the SDK).
/// </summary>
public sealed class VolumeKeyring
{
    /// <summary>Configuration key of the master key.</summary>
    public const string MasterKeyKey = "PoolAI:Volumes:MasterKey";

    private readonly Lazy<byte[]> _master;
    private byte[]? _transport;

    /// <summary>Reads the master key from <paramref name="configuration"/> when it is first needed.</summary>
    public VolumeKeyring(IConfiguration configuration) => _master = new(() =>
        configuration[MasterKeyKey] is { Length: > 0 } text
            ? Convert.FromBase64String(text) is { Length: 32 } key ? key : throw new InvalidOperationException($"{MasterKeyKey} must be base64 of 32 bytes")
            : PoolSecrets.LoadOrCreate("volumes.key", 32));

    /// <summary>The key shard tokens are signed with (<see cref="ShardTokens.DeriveKey"/> of the master key).</summary>
    public byte[] ShardTransportKey => _transport ??= ShardTokens.DeriveKey(_master.Value);

    /// <summary>A new data key for <paramref name="volume"/>, wrapped: nonce (12) ‖ ciphertext (32) ‖ tag (16).</summary>
    public byte[] NewWrappedKey(string volume) => Wrap(volume, RandomNumberGenerator.GetBytes(32));

    /// <summary>Unwraps the data key of <paramref name="volume"/>.</summary>
    /// <exception cref="CryptographicException">The master key is not the one that wrapped it.</exception>
    public byte[] Unwrap(string volume, byte[] wrapped)
    {
        using var aes = new AesGcm(_master.Value, 16);
        var key = new byte[32];
        aes.Decrypt(wrapped.AsSpan(0, 12), wrapped.AsSpan(12, 32), wrapped.AsSpan(44, 16), key, Encoding.UTF8.GetBytes(volume));
        return key;
    }

    private byte[] Wrap(string volume, byte[] key)
    {
        using var aes = new AesGcm(_master.Value, 16);
        var wrapped = new byte[60];
        RandomNumberGenerator.Fill(wrapped.AsSpan(0, 12));
        aes.Encrypt(wrapped.AsSpan(0, 12), key, wrapped.AsSpan(12, 32), wrapped.AsSpan(44, 16), Encoding.UTF8.GetBytes(volume));
        return wrapped;
    }
}
