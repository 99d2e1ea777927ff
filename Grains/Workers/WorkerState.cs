namespace PoolAI.Workers;

/// <summary>A worker grain's persisted state (state name <c>worker</c>).</summary>
[GenerateSerializer, Alias("poolai.WorkerState")]
public sealed class WorkerState
{
    /// <summary>Address of its current silo.</summary>
    [Id(0)] public string? Silo { get; set; }

    /// <summary>What it advertised.</summary>
    [Id(1)] public WorkerCapabilities? Capabilities { get; set; }

    /// <summary>Whether it takes new work.</summary>
    [Id(2)] public WorkerStatus Status { get; set; }

    /// <summary>When it last reported.</summary>
    [Id(3)] public DateTimeOffset? LastHeartbeat { get; set; }

    /// <summary>Jobs finished with a result.</summary>
    [Id(4)] public long JobsSucceeded { get; set; }

    /// <summary>Jobs that failed on it.</summary>
    [Id(5)] public long JobsFailed { get; set; }

    /// <summary>Tokens generated in total.</summary>
    [Id(6)] public long TokensGenerated { get; set; }

    /// <summary>Moving average of tokens/s.</summary>
    [Id(7)] public double TokensPerSecond { get; set; }

    /// <summary>Why it is not active, when it is not.</summary>
    [Id(8)] public string? StatusReason { get; set; }
}
