namespace PoolAI.Jobs;

/// <summary>A job as submitted: what to run, on which model, how urgently.</summary>
/// <param name="Kind">What the job does.</param>
/// <param name="Model">Model id from the model registry, e.g. <c>shakespeare-char</c>.</param>
/// <param name="Generation">Prompt and sampling settings; required for text and code generation.</param>
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
[GenerateSerializer, Immutable, Alias("poolai.JobSpec")]
public sealed record JobSpec(
    [property: Id(0)] JobKind Kind,
    [property: Id(1)] string Model,
    [property: Id(2)] GenerationSettings? Generation = null,
    [property: Id(3)] int Priority = 0,
    [property: Id(4)] string Requester = "anonymous",
    [property: Id(5)] TimeSpan? TimeToLive = null,
    [property: Id(6)] IReadOnlyList<string>? ExcludedWorkers = null,
    [property: Id(7)] Guid? Verifies = null,
    [property: Id(8)] string? WebhookUrl = null,
    [property: Id(9)] JobRequirements? Requirements = null,
    [property: Id(10)] bool NoCache = false)
{
    /// <summary>A text-generation job on <paramref name="model"/>.</summary>
    public static JobSpec TextGeneration(string model, GenerationSettings settings) =>
        new(JobKind.TextGeneration, model, settings);

    /// <summary>A no-op system job (<see cref="SystemTasks.Noop"/>): queued, placed on a miner, run and settled like any job, doing nothing.</summary>
    public static JobSpec Noop(string requester = "anonymous", int priority = 0) =>
        new(JobKind.System, SystemTasks.Noop, Priority: priority, Requester: requester);
}
