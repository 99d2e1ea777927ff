using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using PoolAI.Jobs;
using PoolAI.Placement;
using PoolAI.Storage;

namespace PoolAI.Rewards;

/// <summary>A verification's persisted state (state name <c>verification</c>).</summary>
[GenerateSerializer, Alias("poolai.VerificationState")]
public sealed class VerificationState
{
    /// <summary>The verified job as submitted; null until started.</summary>
    [Id(0)] public JobSpec? Spec { get; set; }

    /// <summary>Its worker.</summary>
    [Id(1)] public string? Worker { get; set; }

    /// <summary>Its output.</summary>
    [Id(2)] public string? Text { get; set; }

    /// <summary>Check jobs, in order.</summary>
    [Id(3)] public List<CheckState> Checks { get; set; } = [];

    /// <summary>Where it stands.</summary>
    [Id(4)] public VerificationOutcome Outcome { get; set; }

    /// <summary>The outcome has been written to every ledger concerned.</summary>
    [Id(5)] public bool Applied { get; set; }
}

/// <summary>One check job of a verification.</summary>
[GenerateSerializer, Alias("poolai.CheckState")]
public sealed class CheckState
{
    /// <summary>The check job.</summary>
    [Id(0)] public Guid JobId { get; set; }

    /// <summary>Who ran it.</summary>
    [Id(1)] public string? Worker { get; set; }

    /// <summary>Its output; null when it did not succeed.</summary>
    [Id(2)] public string? Text { get; set; }

    /// <summary>It ended.</summary>
    [Id(3)] public bool Done { get; set; }
}

/// <summary>
/// Verifies one job's output by majority, on a coordinator silo. A check job with the same model, settings and seed
/// runs on a worker other than the job's; on the CPU a correct worker produces exactly the same tokens. If the check
/// agrees, both pass. If not, a second check runs on a third worker and decides: the worker the other two disagree
/// with fails (its credit is corrected, its quality factor lowered, a suspicion added); with no third worker, or no
/// two outputs alike, the verification is inconclusive and nobody is penalised.
/// <para>
/// Every step is persisted before it is acted on, and acting is idempotent (check jobs have ids derived from this
/// job's; ledgers record one verification per job), so a crash repeats what was cut short.
/// </para>
/// </summary>
[CoordinatorFilter]
public sealed partial class VerificationGrain(
    [PersistentState("verification", PoolKeys.Storage)] IPersistentState<VerificationState> state,
    Execution.JobKindRegistry kinds,
    ILogger<VerificationGrain> logger) : Grain, IVerificationGrain
{
    /// <summary>Most check jobs one verification runs.</summary>
    public const int MaxChecks = 2;

    private readonly SerializedWrites<VerificationState> _writes = new(state);

    private Guid Id => this.GetPrimaryKey();

    private VerificationState V => state.State;

    /// <inheritdoc />
    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (V.Spec is null)
            return;
        if (V.Outcome != VerificationOutcome.Pending && !V.Applied)
            await ApplyAsync();
        else if (V.Outcome == VerificationOutcome.Pending && V.Checks.LastOrDefault() is { Done: false } check)
            await SubmitAsync(check.JobId); // idempotent: the job exists already unless the crash came first
    }

    /// <inheritdoc />
    public async Task StartAsync(JobSpec spec, string worker, string text)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (V.Spec is not null)
            return;
        V.Spec = spec;
        V.Worker = worker;
        V.Text = text;
        V.Checks.Add(new CheckState { JobId = CheckId(Id, 1) });
        await _writes.WriteAsync();
        await SubmitAsync(V.Checks[0].JobId);
    }

    /// <inheritdoc />
    public async Task ReportAsync(Guid checkJobId, string? worker, string? text)
    {
        if (V.Checks.FirstOrDefault(c => c.JobId == checkJobId) is not { Done: false } check)
            return;
        check.Done = true;
        check.Worker = worker;
        check.Text = text;
        V.Outcome = Decide();
        if (V.Outcome == VerificationOutcome.Pending)
            V.Checks.Add(new CheckState { JobId = CheckId(Id, V.Checks.Count + 1) });
        await _writes.WriteAsync();
        if (V.Outcome == VerificationOutcome.Pending)
            await SubmitAsync(V.Checks[^1].JobId);
        else
            await ApplyAsync();
    }

    /// <inheritdoc />
    public Task<VerificationView> GetAsync() => Task.FromResult(new VerificationView(
        Id, V.Worker, V.Outcome,
        V.Checks.Select(c => new VerificationCheck(c.JobId, c.Worker, c.Done && c.Text is not null ? c.Text == V.Text : null, c.Done)).ToList()));

    /// <summary>The id of check job <paramref name="number"/> of job <paramref name="jobId"/>: derived, so a repeated submit finds the same job.</summary>
    public static Guid CheckId(Guid jobId, int number)
    {
        Span<byte> input = stackalloc byte[20];
        jobId.TryWriteBytes(input);
        BitConverter.TryWriteBytes(input[16..], number);
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(input, hash);
        return new Guid(hash[..16]);
    }

    /// <summary>The outcome after the latest check; <see cref="VerificationOutcome.Pending"/> when another check must run.</summary>
    private VerificationOutcome Decide()
    {
        var first = V.Checks[0];
        if (first.Text is null)
            return VerificationOutcome.Inconclusive;
        if (first.Text == V.Text)
            return VerificationOutcome.Passed;
        if (V.Checks.Count < MaxChecks)
            return VerificationOutcome.Pending;
        var second = V.Checks[1];
        if (second.Text is null)
            return VerificationOutcome.Inconclusive;
        if (second.Text == V.Text)
            return VerificationOutcome.CheckerFailed;
        return second.Text == first.Text ? VerificationOutcome.Failed : VerificationOutcome.Inconclusive;
    }

    private async Task SubmitAsync(Guid checkJobId)
    {
        var excluded = new List<string> { V.Worker! };
        excluded.AddRange(V.Checks.Where(c => c.Worker is not null).Select(c => c.Worker!));
        var spec = V.Spec! with { Requester = "verification", Verifies = Id, ExcludedWorkers = excluded.Distinct().ToList() };
        try
        {
            await GrainFactory.Reference<IJobGrain>(checkJobId).SubmitAsync(spec);
        }
        catch (Exception ex) when (ex is JobValidationException or ArgumentException)
        {
            // The model left the registry, say: nothing to compare with.
            LogCheckRefused(Id, ex);
            await ReportAsync(checkJobId, null, null);
        }
    }

    private async Task ApplyAsync()
    {
        var first = V.Checks[0];
        var second = V.Checks.Count > 1 ? V.Checks[1] : null;
        switch (V.Outcome)
        {
            case VerificationOutcome.Passed:
                await RecordAsync(V.Worker, Id, true, $"reproduced by worker {first.Worker}");
                await RecordAsync(first.Worker, first.JobId, true, $"reproduced job {Id} of worker {V.Worker}");
                break;
            case VerificationOutcome.Failed:
                await RecordAsync(V.Worker, Id, false, $"job {Id}: output differs from what workers {first.Worker} and {second!.Worker} produced with the same seed and settings");
                await EvictCachedResultAsync();
                await RecordAsync(first.Worker, first.JobId, true, $"agreed with worker {second.Worker}");
                await RecordAsync(second.Worker, second.JobId, true, $"agreed with worker {first.Worker}");
                break;
            case VerificationOutcome.CheckerFailed:
                await RecordAsync(first.Worker, first.JobId, false, $"check job {first.JobId}: output differs from what workers {V.Worker} and {second!.Worker} produced with the same seed and settings");
                await RecordAsync(V.Worker, Id, true, $"reproduced by worker {second.Worker}");
                await RecordAsync(second.Worker, second.JobId, true, $"reproduced job {Id} of worker {V.Worker}");
                break;
            default:
                LogInconclusive(Id, V.Worker);
                break;
        }

        V.Applied = true;
        await _writes.WriteAsync();
        LogVerified(Id, V.Worker, V.Outcome);
    }

    /// <summary>Takes the verified job's wrong output out of the result cache, if it is the output cached for its request.</summary>
    private Task EvictCachedResultAsync() =>
        V.Spec is { } spec && kinds.TryGet(spec.Kind, out var kind) && ResultCacheKey.For(spec, kind) is { } key
            ? GrainFactory.GetGrain<IResultCacheGrain>(key).EvictAsync(Id)
            : Task.CompletedTask;

    private Task RecordAsync(string? worker, Guid jobId, bool passed, string detail) => worker is null
        ? Task.CompletedTask
        : GrainFactory.GetGrain<IRewardLedgerGrain>(worker).RecordVerificationAsync(jobId, passed, detail);

    [LoggerMessage(Level = LogLevel.Information, Message = "Verification of job {JobId} (worker {Worker}): {Outcome}")]
    private partial void LogVerified(Guid jobId, string? worker, VerificationOutcome outcome);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Verification of job {JobId} (worker {Worker}) is inconclusive: no two outputs could be compared")]
    private partial void LogInconclusive(Guid jobId, string? worker);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Verification of job {JobId}: the check job was refused")]
    private partial void LogCheckRefused(Guid jobId, Exception exception);
}
