using PoolAI.Jobs;
using PoolAI.Rewards;

namespace PoolAI.Execution;

/// <summary>
/// What the pool knows about one job kind, on every silo: its input and output records, the rules its input must
/// satisfy, which silos can run it on which targets, how its work is counted and paid, and whether its results can be
/// cached and verified. The job grain and the queues know only this contract, never a kind, so a kind is a folder
/// (descriptor, executor, records, registration) and adding one touches no grain. Derive from
/// <see cref="JobKindDescriptor{TInput, TOutput}"/>; register with <see cref="JobKindSiloBuilderExtensions.AddJobKind{TInput, TOutput}"/>.
/// </summary>
public abstract class JobKindDescriptor
{
    /// <summary>Creates the descriptor of <paramref name="kind"/>.</summary>
    protected JobKindDescriptor(JobKind kind) => Kind = kind;

    /// <summary>The kind described.</summary>
    public JobKind Kind { get; }

    /// <summary>The kind's input record type.</summary>
    public abstract Type InputType { get; }

    /// <summary>The kind's output record type.</summary>
    public abstract Type OutputType { get; }

    /// <summary>What a work unit is, for people and the reward docs (e.g. <c>generated tokens</c>).</summary>
    public abstract string WorkUnit { get; }

    /// <summary>
    /// Checks the job's input and target against the kind's rules (the model exists and is of the right kind, the prompt
    /// is encodable, a task exists…); the rules that apply to every job (<see cref="JobSpecRules"/>) are checked before.
    /// </summary>
    /// <exception cref="JobValidationException">The first rule broken, naming the field as the API spells it.</exception>
    public void Validate(JobSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (spec.Input is null)
            throw new JobValidationException("input", $"is required for {Kind} jobs");
        if (!InputType.IsInstanceOfType(spec.Input))
            throw new JobValidationException("input", $"must be a {InputType.Name} for {Kind} jobs; was a {spec.Input.GetType().Name}");
        ValidateInput(spec);
    }

    /// <summary>The kind's own rules, for an input already known to be of <see cref="InputType"/>.</summary>
    /// <exception cref="JobValidationException">The first rule broken.</exception>
    protected abstract void ValidateInput(JobSpec spec);

    /// <summary>
    /// Whether a silo that advertises this kind, with <paramref name="silo"/>'s metadata, can run it on
    /// <paramref name="target"/> (for a model kind: the silo serves that model). Placement and the queues' capacity ask.
    /// </summary>
    public abstract bool Serves(IReadOnlyDictionary<string, string> silo, string target);

    /// <summary>The targets jobs of this kind may name in this pool (models of the right kind, task names), so a coordinator that starts can wake their queues.</summary>
    public abstract IEnumerable<string> KnownTargets { get; }

    /// <summary>Units of work in <paramref name="output"/>, the quantity paid for (see <see cref="WorkUnit"/>); 0 pays nothing.</summary>
    public abstract long WorkUnits(IJobOutput output);

    /// <summary>Credits per work unit on a target with <paramref name="modelParameters"/> weights (0 when not a model).
    /// The default is the reward formula's rate for the seed's kinds (<see cref="RewardFormula.BaseRate"/>).</summary>
    public virtual decimal RatePerUnit(RewardFormula formula, long modelParameters) => formula.BaseRate(Kind, modelParameters);

    /// <summary>
    /// The request's canonical text for the result cache: every input field that changes the output, written so that
    /// equal requests give equal text; null when the kind's outputs are not reproducible or the job must not use the cache.
    /// </summary>
    public virtual string? CacheIdentity(JobSpec spec) => null;

    /// <summary>Whether <paramref name="output"/> may be stored under its request's cache identity (it was made the way
    /// the identity says); true by default.</summary>
    public virtual bool Cacheable(IJobOutput output) => true;

    /// <summary>What an attempt had produced when its job was cancelled or expired, from its streamed output and last
    /// progress; null when the kind keeps nothing partial (its checkpoint, if any, is kept either way).</summary>
    public virtual IJobOutput? PartialOutput(string streamed, JobProgress? progress) => null;

    /// <summary>
    /// The part of an output that another correct worker reproduces exactly (the text of a seeded generation), which
    /// verification compares; null when the kind's outputs are not verified by re-running.
    /// </summary>
    public virtual string? Fingerprint(IJobOutput output) => null;

    /// <summary>
    /// Whether jobs of this kind on <paramref name="target"/> may run on open miners (machines the pool does not trust,
    /// connected through the miner channel): only kinds whose inputs and outputs travel whole on the channel and whose
    /// outputs <see cref="CheckOutput"/> can hold to the rules. False by default.
    /// </summary>
    public virtual bool RunsOnOpenMiners(string target) => false;

    /// <summary>
    /// Checks an output an untrusted miner sent against the job's <paramref name="target"/> and <paramref name="input"/>:
    /// the figures it claims (tokens, steps) must be possible for them. Null when it holds; otherwise the rule it
    /// broke, naming the field. The default accepts any output of the kind's type.
    /// </summary>
    public virtual string? CheckOutput(string target, IJobInput input, IJobOutput output) => null;
}

/// <summary>A <see cref="JobKindDescriptor"/> with typed input and output.</summary>
/// <typeparam name="TInput">The kind's input record.</typeparam>
/// <typeparam name="TOutput">The kind's output record.</typeparam>
public abstract class JobKindDescriptor<TInput, TOutput>(JobKind kind) : JobKindDescriptor(kind)
    where TInput : class, IJobInput
    where TOutput : class, IJobOutput
{
    /// <inheritdoc />
    public sealed override Type InputType => typeof(TInput);

    /// <inheritdoc />
    public sealed override Type OutputType => typeof(TOutput);

    /// <inheritdoc />
    protected sealed override void ValidateInput(JobSpec spec) => Validate(spec, (TInput)spec.Input!);

    /// <summary>The kind's own rules for <paramref name="input"/>.</summary>
    /// <exception cref="JobValidationException">The first rule broken.</exception>
    protected abstract void Validate(JobSpec spec, TInput input);

    /// <inheritdoc />
    public sealed override long WorkUnits(IJobOutput output) => output is TOutput typed ? WorkUnits(typed) : 0;

    /// <summary>Units of work in <paramref name="output"/>.</summary>
    protected abstract long WorkUnits(TOutput output);

    /// <inheritdoc />
    public sealed override string? CacheIdentity(JobSpec spec) => spec.Input is TInput input ? CacheIdentity(spec, input) : null;

    /// <summary>The canonical text of <paramref name="input"/> for the result cache; null when not cacheable (the default).</summary>
    protected virtual string? CacheIdentity(JobSpec spec, TInput input) => null;

    /// <inheritdoc />
    public sealed override string? Fingerprint(IJobOutput output) => output is TOutput typed ? Fingerprint(typed) : null;

    /// <inheritdoc />
    public sealed override bool Cacheable(IJobOutput output) => output is TOutput typed && Cacheable(typed);

    /// <summary>Whether <paramref name="output"/> may be stored under its request's cache identity; true by default.</summary>
    protected virtual bool Cacheable(TOutput output) => true;

    /// <summary>The exactly reproducible part of <paramref name="output"/>; null when not verified (the default).</summary>
    protected virtual string? Fingerprint(TOutput output) => null;

    /// <inheritdoc />
    public sealed override string? CheckOutput(string target, IJobInput input, IJobOutput output) => input is TInput typedInput
        ? output is TOutput typed ? CheckOutput(target, typedInput, typed) : "output: is not the kind's output record"
        : "input: is not the kind's input record";

    /// <summary>The kind's rules for an output an untrusted miner sent (see <see cref="JobKindDescriptor.CheckOutput"/>); null accepts it (the default).</summary>
    protected virtual string? CheckOutput(string target, TInput input, TOutput output) => null;
}
