using System.ComponentModel.DataAnnotations;

namespace PoolAI.Gateway.S3;

/// <summary>The S3 API's settings (configuration section <c>PoolAI:Gateway:S3</c>).</summary>
public sealed class S3Options
{
    /// <summary>Configuration section.</summary>
    public const string Section = "PoolAI:Gateway:S3";

    /// <summary>S3's limit on one PutObject or UploadPart body: 5 GiB.</summary>
    public const long S3MaxPutBytes = 5L * 1024 * 1024 * 1024;

    /// <summary>Largest clock difference between a client and the gateway: 15 minutes, as S3 (RequestTimeTooSkewed beyond).</summary>
    public static readonly TimeSpan MaxClockSkew = TimeSpan.FromMinutes(15);

    /// <summary>
    /// Master secret the keys' S3 secrets are derived from, base64 of at least 32 bytes; unset: generated on first use
    /// in <c>$POOLAI_HOME/secrets/s3.key</c> (see <see cref="Silo.Hosting.S3MasterSecret"/>). Every gateway of a pool
    /// needs the same one.
    /// </summary>
    public string? Secret { get; set; }

    /// <summary>The region the credentials endpoint tells clients to sign for (default <c>us-east-1</c>); requests signed for any region are served.</summary>
    [RegularExpression("^[a-z0-9-]{1,32}$", ErrorMessage = "PoolAI:Gateway:S3:Region must be 1 to 32 characters of a-z, 0-9 and '-'")]
    public string Region { get; set; } = "us-east-1";

    /// <summary>How long an API key's role and revocation are trusted before its grain is asked again (default 5 s): a revoked key stops working within this.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:01:00", ErrorMessage = "PoolAI:Gateway:S3:KeyRecheckInterval must be between 00:00:00 and 00:01:00")]
    public TimeSpan KeyRecheckInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Largest PutObject or UploadPart body, bytes (default and most: 5 GiB, as S3); a larger one is answered EntityTooLarge.</summary>
    [Range(0L, S3MaxPutBytes, ErrorMessage = "PoolAI:Gateway:S3:MaxObjectBytes must be between 0 and 5368709120")]
    public long MaxObjectBytes { get; set; } = S3MaxPutBytes;
}
