namespace PoolAI.Jobs;

/// <summary>
/// The outcome of a job, the same for every kind: the kind's <see cref="Output"/> record and where and how long it
/// ran. A succeeded job has one; so does a cancelled job that had produced something (<see cref="Partial"/>).
/// </summary>
/// <param name="Output">What the kind produced (<see cref="TextOutput"/>, <see cref="SystemTaskOutput"/>, …).</param>
/// <param name="Elapsed">Wall time of the work on the silo, from its first step to its last.</param>
/// <param name="Silo">Address of the silo that produced it.</param>
/// <param name="CachedFrom">Set when the result was served from the result cache: the job whose worker produced it
/// (<see cref="Elapsed"/> and <see cref="Silo"/> are that job's). Null for a result produced for this job.</param>
/// <param name="Partial">True for what a job had produced when it was cancelled or expired, false for a finished result.</param>
/// <param name="WorkUnits">Units of work the kind counts for it (generated tokens for text; see the kind's reward
/// rule), computed by the pool from <paramref name="Output"/>.</param>
/// <param name="Concurrency">Mean number of jobs that shared the work's compute while this one ran (for text, the
/// generations in its decode passes; 1 alone). <see cref="UnitsPerSecond"/> times this is the silo's throughput while it
/// ran the job, which is what rewards compare between workers.</param>
[GenerateSerializer, Immutable, Alias("poolai.JobResult")]
public sealed record JobResult(
    IJobOutput Output,
    [property: Id(3)] TimeSpan Elapsed,
    [property: Id(4)] string Silo,
    [property: Id(5)] Guid? CachedFrom = null,
    [property: Id(7)] bool Partial = false,
    [property: Id(8)] long WorkUnits = 0,
    [property: Id(9)] double Concurrency = 1)
{
    [Id(6)] private readonly IJobOutput? _output = Output;

    // The text-shaped fields results were stored with before outputs were typed; read into Output. Only the serializer
    // sets them (results stored then).
#pragma warning disable CS0649
    [Id(0)] private readonly string? _legacyText;
    [Id(1)] private readonly int _legacyTokens;
    [Id(2)] private readonly string? _legacyFinishReason;
#pragma warning restore CS0649

    /// <summary>What the kind produced; for a result stored before outputs were typed, a <see cref="TextOutput"/>.</summary>
    public IJobOutput Output
    {
        get => _output ?? new TextOutput(_legacyText ?? string.Empty, _legacyTokens, _legacyFinishReason ?? string.Empty);
        init => _output = value;
    }

    /// <summary>True when the result came from the result cache, not from a worker running this job.</summary>
    public bool Cached => CachedFrom is not null;

    /// <summary>Work units per second of <see cref="Elapsed"/> (tokens/s for text); 0 when either is 0.</summary>
    public double UnitsPerSecond => Elapsed > TimeSpan.Zero ? WorkUnits / Elapsed.TotalSeconds : 0;

    /// <summary>The silo's throughput while it ran the job: <see cref="UnitsPerSecond"/> × <see cref="Concurrency"/> (at least 1).</summary>
    public double SiloUnitsPerSecond => UnitsPerSecond * Math.Max(1, Concurrency);

    /// <summary>The text of a text or code job's output; null for other kinds.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public TextOutput? Text => Output as TextOutput;
}
