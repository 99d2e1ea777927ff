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

    /// <summary>
    /// Empties a silo before maintenance: parameter <c>worker</c> (its worker id, also its store's id), and <c>wait</c>
    /// (seconds to wait for the jobs it runs, default 600). The worker is put in maintenance (no new jobs; a banned one stays banned) and its store
    /// marked draining (no new shards); every shard the store holds of every volume is moved to other stores (copied
    /// when its bytes check out, else rebuilt from its stripe); then the task waits for the silo's running jobs and
    /// reports the store empty. Refused, naming <c>input.parameters.worker</c>, when the other stores cannot hold the
    /// shards at a volume's layout. Pays no reward.
    /// </summary>
    public const string Migrate = "migrate";

    /// <summary>
    /// Copies a volume file to the models directory of miners: parameters <c>volume</c>, <c>path</c> (<c>…/MODEL/FILE</c>,
    /// landing at <c>MODELS/MODEL/FILE</c>) and either <c>model</c> (the miners that serve that model, which must be the
    /// folder holding the file) or <c>to=all</c> (every miner). Each copy is checked against the SHA-256 the volume
    /// recorded before it replaces anything, and the silo's model registry is read again. Pays no reward.
    /// </summary>
    public const string Mirror = "mirror";

    /// <summary>Every built-in system task.</summary>
    public static IReadOnlyList<string> All { get; } = [Noop, Probe, Migrate, Mirror];

    /// <summary>True when <paramref name="name"/> is a built-in system task.</summary>
    public static bool Contains(string name) => All.Contains(name, StringComparer.Ordinal);
}

/// <summary>The input of a <see cref="JobKind.System"/> job: named parameters of its task (none for <c>noop</c>).</summary>
/// <param name="Parameters">Task parameters by name; null for none. <c>probe</c> takes <c>tokens</c> (tokens generated
/// per model, 1–512, default 64); <c>migrate</c> takes <c>worker</c> and <c>wait</c>; <c>mirror</c> takes <c>volume</c>,
/// <c>path</c>, and <c>model</c> or <c>to</c>.</param>
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
