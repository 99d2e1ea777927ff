using System.ComponentModel.DataAnnotations;

namespace PoolAI.Jobs;

/// <summary>How the pool treats jobs (configuration section <c>PoolAI:Jobs</c>).</summary>
public sealed class JobOptions
{
    /// <summary>Configuration section.</summary>
    public const string Section = "PoolAI:Jobs";

    /// <summary>Time to live of a job that names none: it ends <c>Expired</c> if not finished by then.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "30.00:00:00", ErrorMessage = "PoolAI:Jobs:DefaultTimeToLive must be between 00:00:01 and 30.00:00:00")]
    public TimeSpan DefaultTimeToLive { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Attempts before a job whose attempts keep failing ends <c>Failed</c>.</summary>
    [Range(1, 100, ErrorMessage = "PoolAI:Jobs:MaxAttempts must be between 1 and 100")]
    public int MaxAttempts { get; set; } = 3;

    /// <summary>Longest time partial output is held on the miner before it is streamed on.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:00:10", ErrorMessage = "PoolAI:Jobs:ChunkInterval must be between 00:00:00 and 00:00:10")]
    public TimeSpan ChunkInterval { get; set; } = TimeSpan.FromMilliseconds(50);
}
