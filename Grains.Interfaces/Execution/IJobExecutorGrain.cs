using PoolAI.Jobs;

namespace PoolAI.Execution;

/// <summary>
/// Runs jobs of one kind on one target (a model, or a task) on a silo: a stateless worker confined by its placement
/// filter to silos that advertise the kind and serve the target, keyed by <see cref="ExecutorKeys"/>
/// (<c>KIND/TARGET@SILO</c> pins the call to the silo whose slot the job's queue reserved). It hands the input to the
/// kind's executor registered on that silo, renews the attempt's lease while it runs, forwards streamed output and
/// progress, stores checkpoints and artifacts through the job, and returns the kind's output.
/// </summary>
[Alias("poolai.IJobExecutorGrain")]
public interface IJobExecutorGrain : IGrainWithStringKey
{
    /// <summary>Runs one attempt of a job.</summary>
    /// <exception cref="JobValidationException">The input breaks a rule of the kind that only the executor can check (a prompt the model cannot encode).</exception>
    /// <exception cref="WorkHandedBackException">The silo is shutting down and gave the attempt back unfinished.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> fired, or the lease was refused.</exception>
    [Alias("Run"), ResponseTimeout("7.00:00:00")]
    Task<JobResult> RunAsync(ExecutionRequest request, CancellationToken cancellationToken = default);

    /// <summary>Where this activation runs and what it serves: for placement checks and the admin page.</summary>
    [Alias("Describe")]
    Task<ExecutorHostInfo> DescribeAsync();
}

/// <summary>One attempt of a job for an executor.</summary>
/// <param name="JobId">The job.</param>
/// <param name="Attempt">Attempt number, echoed in every update, lease renewal and checkpoint sent to <paramref name="Sink"/>.</param>
/// <param name="Kind">The job's kind.</param>
/// <param name="Target">What it runs on: the model id, or the task's name.</param>
/// <param name="Input">The kind's input, already validated by the pool.</param>
/// <param name="Sink">The lease holder (the job), which gets output, progress, checkpoints and lease renewals; null to
/// return only the result (no lease).</param>
/// <param name="ResumeFrom">The job's last checkpoint from an earlier attempt; null to start from the beginning.</param>
/// <param name="ChunkInterval">Longest time streamed output is held before it is sent to the sink; null for the silo's default.</param>
/// <param name="LeaseInterval">Time between lease renewals; null for the silo's default (1 s).</param>
[GenerateSerializer, Immutable, Alias("poolai.ExecutionRequest")]
public sealed record ExecutionRequest(
    [property: Id(0)] Guid JobId,
    [property: Id(1)] int Attempt,
    [property: Id(2)] JobKind Kind,
    [property: Id(3)] string Target,
    [property: Id(4)] IJobInput Input,
    [property: Id(5)] IExecutionSink? Sink = null,
    [property: Id(6)] JobCheckpoint? ResumeFrom = null,
    [property: Id(7)] TimeSpan? ChunkInterval = null,
    [property: Id(8)] TimeSpan? LeaseInterval = null);

/// <summary>Facts about an executor activation.</summary>
/// <param name="Kind">The kind it runs.</param>
/// <param name="Target">The model or task it runs.</param>
/// <param name="Silo">Address of the hosting silo.</param>
/// <param name="Device">Torch device class of the silo, <c>cpu</c> or <c>cuda</c>.</param>
[GenerateSerializer, Immutable, Alias("poolai.ExecutorHostInfo")]
public sealed record ExecutorHostInfo(
    [property: Id(0)] JobKind Kind,
    [property: Id(1)] string Target,
    [property: Id(2)] string Silo,
    [property: Id(3)] string Device);

/// <summary>
/// Keys of <see cref="IJobExecutorGrain"/>: <c>KIND/TARGET</c> lets placement pick any silo that runs the kind for the
/// target; <c>KIND/TARGET@SILO</c> pins the call to that silo, which is how job queues place work on the silo whose
/// slot they reserved. Kind names hold only letters and digits and silo addresses no <c>@</c>, so the parts split
/// unambiguously.
/// </summary>
public static class ExecutorKeys
{
    /// <summary>The key of <paramref name="kind"/> on <paramref name="target"/>, on any silo.</summary>
    public static string For(JobKind kind, string target) => $"{kind.Name}/{target}";

    /// <summary>The key of <paramref name="kind"/> on <paramref name="target"/> on the silo written <paramref name="silo"/> (<see cref="SiloAddress.ToString"/>).</summary>
    public static string Pinned(JobKind kind, string target, string silo) => $"{kind.Name}/{target}@{silo}";

    /// <summary>Splits a key into its kind, target and, when pinned, silo.</summary>
    /// <exception cref="FormatException">Not an executor key.</exception>
    public static (JobKind Kind, string Target, string? Silo) Parse(string key)
    {
        var slash = key.IndexOf('/', StringComparison.Ordinal);
        if (slash <= 0)
            throw new FormatException($"'{key}' is not an executor key (KIND/TARGET[@SILO])");
        var at = key.LastIndexOf('@');
        var kind = new JobKind(key[..slash]);
        return at > slash ? (kind, key[(slash + 1)..at], key[(at + 1)..]) : (kind, key[(slash + 1)..], null);
    }
}
