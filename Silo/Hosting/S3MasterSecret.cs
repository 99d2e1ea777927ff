using Microsoft.Extensions.Configuration;
using PoolAI.Auth;
using PoolAI.Hosting;

namespace PoolAI.Silo.Hosting;

/// <summary>
/// The secret every API key's S3 credentials are derived from (<see cref="S3Credentials.SecretFor"/>): configuration
/// <c>PoolAI:Gateway:S3:Secret</c> (base64, at least 32 bytes; set the same value on every gateway of a pool), else
/// <c>$POOLAI_HOME/secrets/s3.key</c>, generated on first use. Changing it changes every key's S3 secret.
/// </summary>
public static class S3MasterSecret
{
    /// <summary>The configuration key.</summary>
    public const string ConfigurationKey = "PoolAI:Gateway:S3:Secret";

    /// <summary>Name of the generated secret under <c>$POOLAI_HOME/secrets</c>.</summary>
    public const string FileName = "s3.key";

    /// <summary>The configured secret, or null when none is configured.</summary>
    /// <exception cref="PoolConfigurationException">The value is not base64 of at least 32 bytes.</exception>
    public static byte[]? Configured(IConfiguration configuration)
    {
        if (configuration[ConfigurationKey] is not { Length: > 0 } text)
            return null;
        byte[] bytes;
        try
        {
            bytes = Convert.FromBase64String(text);
        }
        catch (FormatException)
        {
            throw new PoolConfigurationException(ConfigurationKey, "must be base64");
        }

        return bytes.Length >= S3Credentials.MinSecretBytes
            ? bytes
            : throw new PoolConfigurationException(ConfigurationKey, $"must be at least {S3Credentials.MinSecretBytes} bytes; was {bytes.Length}");
    }

    /// <summary>The configured secret, else the pool home's, generated when missing.</summary>
    /// <exception cref="PoolConfigurationException">The configured value is not base64 of at least 32 bytes.</exception>
    public static byte[] LoadOrCreate(IConfiguration configuration) =>
        Configured(configuration) ?? PoolSecrets.LoadOrCreate(FileName, S3Credentials.MinSecretBytes);

    /// <summary>The configured secret, else the pool home's when it exists, else null: for tools that must not invent a secret no gateway uses.</summary>
    /// <exception cref="PoolConfigurationException">The configured value is not base64 of at least 32 bytes.</exception>
    public static byte[]? LoadExisting(IConfiguration configuration) =>
        Configured(configuration)
        ?? (File.Exists(Path.Combine(PoolSecrets.Home, "secrets", FileName)) ? PoolSecrets.LoadOrCreate(FileName, S3Credentials.MinSecretBytes) : null);
}
