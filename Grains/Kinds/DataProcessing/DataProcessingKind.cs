using PoolAI.Execution;
using PoolAI.Jobs;

namespace PoolAI.Kinds.DataProcessing;

/// <summary>
/// Data processing (<see cref="JobKind.DataProcessing"/>): operations on the pool's volumes run as jobs, so they are
/// queued, placed, leased, retried and settled like any job. The operation is the job's target
/// (<see cref="JobSpec.Model"/>, one of <see cref="DataOperations"/>) and its input's <see cref="DataProcessingInput.Operation"/>;
/// the output counts what it did (<see cref="DataProcessingOutput"/>).
/// <list type="bullet">
/// <item>Work units: files copied or deleted, paid at the formula's data rate per item.</item>
/// <item>Trusted silos only: the executor reads and writes volumes with their data keys and holds the job's S3
/// credentials, neither of which may reach an open miner.</item>
/// <item>Not cached or verified: a sync's effect is on the bucket and the volume, and a re-run is its own check.</item>
/// </list>
/// </summary>
public sealed class DataProcessingKind() : JobKindDescriptor<DataProcessingInput, DataProcessingOutput>(JobKind.DataProcessing)
{
    /// <inheritdoc />
    public override string WorkUnit => "files copied or deleted";

    /// <inheritdoc />
    public override IEnumerable<string> KnownTargets => DataOperations.All;

    /// <inheritdoc />
    public override bool Serves(IReadOnlyDictionary<string, string> silo, string target) => DataOperations.Contains(target);

    /// <inheritdoc />
    protected override void Validate(JobSpec spec, DataProcessingInput input) => DataProcessingRules.Validate(spec.Model, input);

    /// <inheritdoc />
    protected override long WorkUnits(DataProcessingOutput output) => (long)output.Copied + output.Deleted;

    /// <summary>Never on open miners: the work needs volume data keys and the job's S3 credentials.</summary>
    public override bool RunsOnOpenMiners(string target) => false;
}
