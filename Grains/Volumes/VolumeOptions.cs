using System.ComponentModel.DataAnnotations;

namespace PoolAI.Volumes;

/// <summary>Volume settings (<c>PoolAI:Volumes</c>), on coordinators.</summary>
public sealed class VolumeOptions
{
    /// <summary>Configuration section.</summary>
    public const string Section = "PoolAI:Volumes";

    /// <summary>How long a granted write may stay uncommitted before its shards are deleted.</summary>
    [Range(typeof(TimeSpan), "00:00:10", "7.00:00:00")]
    public TimeSpan WriteLease { get; set; } = TimeSpan.FromHours(1);

    /// <summary>How long a multipart upload may stay incomplete.</summary>
    [Range(typeof(TimeSpan), "00:01:00", "30.00:00:00")]
    public TimeSpan UploadLifetime { get; set; } = TimeSpan.FromDays(7);

    /// <summary>How often a volume lists the writes its live stores hold and deletes those no file, part or write in progress refers to (shards left by a crash).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan SweepInterval { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>How often coordinators look for dead stores and due audits and scrubs.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan CheckInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How long a store must be dead before its shards are rebuilt elsewhere (a restart within it costs nothing).</summary>
    [Range(typeof(TimeSpan), "00:00:00", "1.00:00:00")]
    public TimeSpan RebuildDelay { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Stripes rebuilt at once: <c>low</c> 1, <c>normal</c> 4, <c>high</c> 16.</summary>
    [RegularExpression("^(low|normal|high)$", ErrorMessage = "must be low, normal or high")]
    public string RebuildPriority { get; set; } = "normal";

    /// <summary>How often every shard is re-read and checked (0: never by itself).</summary>
    [Range(typeof(TimeSpan), "00:00:00", "365.00:00:00")]
    public TimeSpan ScrubInterval { get; set; } = TimeSpan.FromDays(7);

    /// <summary>The storage audit period: each period every store holding shards is challenged once and, if it answers right, paid for the byte-hours it held (0: no audits).</summary>
    [Range(typeof(TimeSpan), "00:00:00", "1.00:00:00")]
    public TimeSpan AuditPeriod { get; set; } = TimeSpan.FromHours(1);

    /// <summary>How long a store has to answer an audit.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:10:00")]
    public TimeSpan AuditTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Credits per GB-hour held (10⁹ bytes × 1 hour) and passed audits.</summary>
    [Range(0, 1000)]
    public decimal CreditsPerGbHour { get; set; } = 0.5m;

    /// <summary>Stripes rebuilt at once for <see cref="RebuildPriority"/>.</summary>
    public int RebuildParallelism => RebuildPriority switch { "low" => 1, "high" => 16, _ => 4 };
}
