using System.ComponentModel.DataAnnotations;

namespace PoolAI.Jobs;

/// <summary>How the pool treats jobs (configuration section <c>PoolAI:Jobs</c>).</summary>
public sealed class JobOptions : IValidatableObject
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

    /// <summary>
    /// How often a serving silo renews the lease of each job it runs (from the moment it takes the job, model loading
    /// included).
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:01:00", ErrorMessage = "PoolAI:Jobs:LeaseInterval must be between 00:00:00.100 and 00:01:00")]
    public TimeSpan LeaseInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// A running attempt whose lease is not renewed for this long is treated as lost (its miner died, hung or lost the
    /// network): the job goes back to the queue and the silo is kept out of placement for a while. Must be at least two
    /// lease intervals.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00", ErrorMessage = "PoolAI:Jobs:LeaseTimeout must be between 00:00:01 and 01:00:00")]
    public TimeSpan LeaseTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Ageing: a waiting job's priority counts one higher for every interval it has waited, so low priority still runs
    /// under a steady flow of higher-priority work.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00", ErrorMessage = "PoolAI:Jobs:AgeingInterval must be between 00:00:01 and 1.00:00:00")]
    public TimeSpan AgeingInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How often a job queue asks the jobs it has counted as running for a whole period how they stand: one that has
    /// finished gives its slot back (its release was lost in a crash), one that waits again is queued again (its
    /// requeue was lost), one that no longer exists frees its slot. A lost release so holds a slot for at most two
    /// periods.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00", ErrorMessage = "PoolAI:Jobs:RunningAudit must be between 00:00:01 and 01:00:00")]
    public TimeSpan RunningAudit { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Most jobs of one requester running at once per model queue; 0 for no cap.</summary>
    [Range(0, 100_000, ErrorMessage = "PoolAI:Jobs:MaxRunningPerRequester must be between 0 (no cap) and 100000")]
    public int MaxRunningPerRequester { get; set; }

    /// <summary>
    /// How long a succeeded job's result is served to identical deterministic requests (same model checkpoint, kind,
    /// settings and seed) from the result cache; 0 turns the cache off.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "365.00:00:00", ErrorMessage = "PoolAI:Jobs:ResultCacheTimeToLive must be between 00:00:00 (off) and 365.00:00:00")]
    public TimeSpan ResultCacheTimeToLive { get; set; } = TimeSpan.FromDays(1);

    /// <summary>
    /// How long a job's artifacts (images, checkpoints, reports) are kept after the job ends; the artifact store deletes
    /// an artifact once no job holds it any longer.
    /// </summary>
    [Range(typeof(TimeSpan), "00:01:00", "3650.00:00:00", ErrorMessage = "PoolAI:Jobs:ArtifactRetention must be between 00:01:00 and 3650.00:00:00")]
    public TimeSpan ArtifactRetention { get; set; } = TimeSpan.FromDays(7);

    /// <summary>
    /// Which machines run a job that does not say (<see cref="JobTrust"/>): <c>Open</c> (the default) lets open miners
    /// run it, <c>Trusted</c> keeps every such job on the cluster's own silos.
    /// </summary>
    public JobTrust DefaultTrust { get; set; } = JobTrust.Open;

    /// <inheritdoc />
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (LeaseTimeout < 2 * LeaseInterval)
            yield return new ValidationResult($"PoolAI:Jobs:LeaseTimeout must be at least twice PoolAI:Jobs:LeaseInterval ({LeaseInterval}); was {LeaseTimeout}", [nameof(LeaseTimeout)]);
    }
}
