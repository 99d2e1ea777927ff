namespace PoolAI.Workers;

/// <summary>Who this silo is as a worker (configuration section <c>PoolAI:Worker</c>).</summary>
public sealed class WorkerIdentity
{
    /// <summary>Configuration section.</summary>
    public const string Section = "PoolAI:Worker";

    /// <summary>The miner's stable worker id; defaults to the machine name.</summary>
    public string WorkerId { get; set; } = Environment.MachineName.ToLowerInvariant();
}
