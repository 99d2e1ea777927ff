namespace PoolAI.Jobs;

/// <summary>A job as submitted: what to run, on which model, how urgently.</summary>
/// <param name="Kind">What the job does; a kind registered on the pool (see <see cref="JobKind"/>).</param>
/// <param name="Model">What it runs on: a model id from the model registry (e.g. <c>shakespeare-char</c>) for model
/// kinds, the task's name for tasks (e.g. <see cref="SystemTasks.Noop"/>).</param>
/// <param name="Input">The kind's input record (<see cref="GenerationSettings"/> for text, <see cref="SystemTaskInput"/>
/// for system tasks, …); its rules are the kind's.</param>
/// <param name="Priority">Higher runs first; 0 is normal, range -10 to 10.</param>
/// <param name="Requester">Who asked (user or API key name); used for fairness and audit.</param>
/// <param name="TimeToLive">How long the job may wait and run before it ends <see cref="JobStatus.Expired"/>; null for the pool default.</param>
/// <param name="ExcludedWorkers">Worker ids that must not run the job (at most 100); verification uses it to run a check elsewhere.</param>
/// <param name="Verifies">Set on a check job that the pool runs to verify another job's output; reported to that job's verification.</param>
/// <param name="WebhookUrl">Absolute http(s) URL that gets a signed POST when the job reaches a final state; null for none.</param>
/// <param name="Requirements">Device and memory the serving silo must offer; null for any silo that serves the model.</param>
/// <param name="NoCache">True: the job runs on a worker even when the result cache holds the result of an identical
/// request, and its own result is not stored there. False (the default, and what jobs stored before this field read as):
/// an identical deterministic request's cached result is served at once.</param>
/// <param name="Trust">Which machines may run it (<see cref="JobTrust"/>); null at submission takes the pool's default
/// (<c>PoolAI:Jobs:DefaultTrust</c>), which the accepted job then records. Jobs stored before this field read as null
/// and run anywhere, as they did.</param>
[GenerateSerializer, Immutable, Alias("poolai.JobSpec")]
public sealed record JobSpec(
    [property: Id(0)] JobKind Kind,
    [property: Id(1)] string Model,
    IJobInput? Input = null,
    [property: Id(3)] int Priority = 0,
    [property: Id(4)] string Requester = "anonymous",
    [property: Id(5)] TimeSpan? TimeToLive = null,
    [property: Id(6)] IReadOnlyList<string>? ExcludedWorkers = null,
    [property: Id(7)] Guid? Verifies = null,
    [property: Id(8)] string? WebhookUrl = null,
    [property: Id(9)] JobRequirements? Requirements = null,
    [property: Id(10)] bool NoCache = false,
    [property: Id(12)] JobTrust? Trust = null)
{
    [Id(11)] private readonly IJobInput? _input = Input;

    // Where jobs stored before inputs were typed kept their prompt and sampling settings; read into Input. Only the
    // serializer sets it (jobs stored then).
#pragma warning disable CS0649
    [Id(2)] private readonly GenerationSettings? _legacyGeneration;
#pragma warning restore CS0649

    /// <summary>
    /// The kind's input record. For a job stored before inputs were typed: its generation settings, or for a system task
    /// (which then took no input) an empty <see cref="SystemTaskInput"/>.
    /// </summary>
    public IJobInput? Input
    {
        get => _input ?? _legacyGeneration ?? (Kind == JobKind.System ? new SystemTaskInput() : (IJobInput?)null);
        init => _input = value;
    }

    /// <summary>A text-generation job on <paramref name="model"/>.</summary>
    public static JobSpec TextGeneration(string model, GenerationSettings settings) =>
        new(JobKind.TextGeneration, model, settings);

    /// <summary>A no-op system job (<see cref="SystemTasks.Noop"/>): queued, placed on a miner, run and settled like any job, doing nothing.</summary>
    public static JobSpec Noop(string requester = "anonymous", int priority = 0) =>
        new(JobKind.System, SystemTasks.Noop, new SystemTaskInput(), Priority: priority, Requester: requester);

    /// <summary>A system task job (see <see cref="SystemTasks"/>).</summary>
    public static JobSpec SystemTask(string task, SystemTaskInput? input = null, string requester = "anonymous") =>
        new(JobKind.System, task, input ?? new SystemTaskInput(), Requester: requester);

    /// <summary>A data-processing job (see <see cref="DataOperations"/>): its target is <paramref name="input"/>'s operation.</summary>
    public static JobSpec DataProcessing(DataProcessingInput input, string requester = "anonymous") =>
        new(JobKind.DataProcessing, input.Operation, input, Requester: requester);
}
