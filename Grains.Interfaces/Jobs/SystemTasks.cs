namespace PoolAI.Jobs;

/// <summary>
/// Built-in system tasks: a <see cref="JobKind.System"/> job names its task in <see cref="JobSpec.Model"/>. Every miner
/// serves them (they need no model weights), so they go through the same queue, placement, lease and settlement as any
/// job.
/// </summary>
public static class SystemTasks
{
    /// <summary>Does nothing on the miner and succeeds with empty output: a probe of the pool's scheduling path (what the benchmarks time). Pays no reward.</summary>
    public const string Noop = "noop";

    /// <summary>Every built-in system task.</summary>
    public static IReadOnlyList<string> All { get; } = [Noop];

    /// <summary>True when <paramref name="name"/> is a built-in system task.</summary>
    public static bool Contains(string name) => All.Contains(name, StringComparer.Ordinal);
}
