using PoolAI.Auth;

namespace PoolAI.Gateway.S3.Signing;

/// <summary>The S3 secret access keys of API keys, derived from the S3 master secret, which is read (or generated) on first use.</summary>
/// <param name="masterSecret">Reads the master secret (see <see cref="Silo.Hosting.S3MasterSecret"/>); called once.</param>
public sealed class S3SecretKeys(Func<byte[]> masterSecret)
{
    private readonly Lazy<byte[]> _master = new(masterSecret, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>The secret access key of API key <paramref name="keyId"/> (<see cref="S3Credentials.SecretFor"/>).</summary>
    public string SecretFor(string keyId) => S3Credentials.SecretFor(_master.Value, keyId);
}
