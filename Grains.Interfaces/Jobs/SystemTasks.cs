namespace PoolAI.Jobs;

/// <summary>
/// Built-in system tasks: a <see cref="JobKind.System"/> job names its task in <see cref="JobSpec.Model"/>. Every miner
/// runs them (they need no model weights), so they go through the same queue, placement, lease and settlement as any
/// job.
/// </summary>
public static class SystemTasks
{
    /// <summary>Does nothing on the miner and succeeds with empty output: a probe of the pool's scheduling path (what the benchmarks time). Pays no reward.</summary>
    public const string Noop = "noop";

    /// <summary>
    /// Measures the miner that runs it: hardware, native libraries and the decoding speed of each model it serves
    /// (tokens/s of a short greedy generation), written as a JSON report artifact (<c>probe.json</c>). Pays no reward.
    /// </summary>
    public const string Probe = "probe";

    /// <summary>Every built-in system task.</summary>
    public static IReadOnlyList<string> All { get; } = [Noop, Probe];

    /// <summary>True when <paramref name="name"/> is a built-in system task.</summary>
    public static bool Contains(string name) => All.Contains(name, StringComparer.Ordinal);
}

/// <summary>The input of a <see cref="JobKind.System"/> job: named parameters of its task (none for <c>noop</c>).</summary>
/// <param name="Parameters">Task parameters by name; null for none. <c>probe</c> takes <c>tokens</c> (tokens generated
/// per model, 1–512, default 64).</param>
[GenerateSerializer, Immutable, Alias("poolai.SystemTaskInput")]
public sealed record SystemTaskInput(
    [property: Id(0)] IReadOnlyDictionary<string, string>? Parameters = null) : IJobInput;

/// <summary>What a system task produced: a line for people and the artifacts it wrote.</summary>
/// <param name="Summary">One line, e.g. <c>probe: 2 cores, shakespeare-char 412 tokens/s</c>; empty for <c>noop</c>.</param>
/// <param name="Artifacts">Files it wrote (a report, say); empty for none.</param>
[GenerateSerializer, Immutable, Alias("poolai.SystemTaskOutput")]
public sealed record SystemTaskOutput(
    [property: Id(0)] string Summary,
    [property: Id(1)] IReadOnlyList<ArtifactRef> Artifacts) : IJobOutput;
