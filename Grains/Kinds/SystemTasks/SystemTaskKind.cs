using System.Globalization;
using PoolAI.Execution;
using PoolAI.Jobs;

namespace PoolAI.Kinds.SystemTasks;

/// <summary>
/// System tasks (<see cref="JobKind.System"/>): pool maintenance and measurement run as jobs, so they are queued,
/// placed, leased and settled like any job. The task is the job's target (<see cref="JobSpec.Model"/>); the input holds
/// its parameters (<see cref="SystemTaskInput"/>); the output is a summary and the artifacts it wrote
/// (<see cref="SystemTaskOutput"/>). Every silo that serves work runs them. They pay nothing (work units 0): they are
/// the pool's work, not a developer's.
/// </summary>
public sealed class SystemTaskKind() : JobKindDescriptor<SystemTaskInput, SystemTaskOutput>(JobKind.System)
{
    /// <summary>Largest <c>tokens</c> parameter of <see cref="Jobs.SystemTasks.Probe"/>.</summary>
    public const int MaxProbeTokens = 512;

    /// <summary>Default <c>tokens</c> parameter of <see cref="Jobs.SystemTasks.Probe"/>.</summary>
    public const int DefaultProbeTokens = 64;

    /// <inheritdoc />
    public override string WorkUnit => "none (system tasks are not paid)";

    /// <inheritdoc />
    public override IEnumerable<string> KnownTargets => Jobs.SystemTasks.All;

    /// <inheritdoc />
    public override bool Serves(IReadOnlyDictionary<string, string> silo, string target) => Jobs.SystemTasks.Contains(target);

    /// <inheritdoc />
    protected override void Validate(JobSpec spec, SystemTaskInput input)
    {
        if (!Jobs.SystemTasks.Contains(spec.Model))
            throw new JobValidationException("model", $"'{spec.Model}' is not a system task; known: {string.Join(", ", Jobs.SystemTasks.All)}");
        var parameters = input.Parameters ?? new Dictionary<string, string>();
        IReadOnlyList<string> allowed = spec.Model switch
        {
            Jobs.SystemTasks.Probe => ["tokens"],
            Jobs.SystemTasks.Migrate => MigrateParameters.Names,
            Jobs.SystemTasks.Mirror => MirrorParameters.Names,
            _ => [],
        };
        if (parameters.Keys.FirstOrDefault(k => !allowed.Contains(k, StringComparer.Ordinal)) is { } unknown)
            throw new JobValidationException($"input.parameters.{unknown}", allowed.Count == 0 ? $"is not a parameter of task {spec.Model}, which takes none" : $"is not a parameter of task {spec.Model}; it takes {string.Join(", ", allowed)}");
        switch (spec.Model)
        {
            case Jobs.SystemTasks.Migrate:
                MigrateParameters.Parse(input);
                break;
            case Jobs.SystemTasks.Mirror:
                MirrorParameters.Parse(input);
                break;
            default:
                ProbeTokens(input);
                break;
        }
    }

    /// <summary>The <c>tokens</c> parameter of a probe, 1–<see cref="MaxProbeTokens"/> (default <see cref="DefaultProbeTokens"/>).</summary>
    /// <exception cref="JobValidationException">Not an integer in range (field <c>input.parameters.tokens</c>).</exception>
    public static int ProbeTokens(SystemTaskInput input)
    {
        if (input.Parameters?.GetValueOrDefault("tokens") is not { } text)
            return DefaultProbeTokens;
        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var tokens) && tokens is >= 1 and <= MaxProbeTokens
            ? tokens
            : throw new JobValidationException("input.parameters.tokens", $"must be an integer between 1 and {MaxProbeTokens}; was '{text}'");
    }

    /// <inheritdoc />
    protected override long WorkUnits(SystemTaskOutput output) => 0;

    /// <summary>Only <see cref="Jobs.SystemTasks.Noop"/> runs on open miners: the others measure or change the machine they run on and write artifacts, which the miner channel does not carry.</summary>
    public override bool RunsOnOpenMiners(string target) => target == Jobs.SystemTasks.Noop;

    /// <summary>An open miner's no-op output is empty: no summary beyond a line, no artifacts.</summary>
    protected override string? CheckOutput(string target, SystemTaskInput input, SystemTaskOutput output) =>
        output.Artifacts is { Count: > 0 } ? "artifacts: an open miner cannot store artifacts"
        : output.Summary.Length > 1_000 ? "summary: must be at most 1000 characters" : null;
}
