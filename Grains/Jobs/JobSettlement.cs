using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PoolAI.Artifacts;
using PoolAI.Execution;
using PoolAI.Models;
using PoolAI.Rewards;

namespace PoolAI.Jobs;

/// <summary>
/// A final job's consequences, done once (the job grain persists <see cref="JobState.Settled"/> after they all
/// succeed, and repeats them after a crash; each step is idempotent per job):
/// <list type="number">
/// <item>a succeeded job's worker is credited for the work units its kind counts in the output (a ledger refuses a
/// second credit for the same job), and a sampled share of reproducible outputs starts a verification; a check job
/// reports its outcome, success or not, to the verification it serves;</item>
/// <item>the job's artifacts are held for <see cref="JobOptions.ArtifactRetention"/> from the job's end;</item>
/// <item>its webhook delivery starts.</item>
/// </list>
/// </summary>
public sealed partial class JobSettlement(
    IGrainFactory grains,
    JobKindRegistry kinds,
    ModelRegistry models,
    IOptions<RewardOptions> rewards,
    IOptions<JobOptions> options,
    TimeProvider time,
    ILogger<JobSettlement> logger)
{
    private readonly RewardFormula _formula = new(rewards.Value);

    /// <summary>True when a final job has nothing to settle: nothing to pay, verify, hold or deliver.</summary>
    public static bool NothingToDo(JobState job) =>
        job.Spec is { } spec && spec.Verifies is null && spec.WebhookUrl is null && job.Artifacts.Count == 0
        && (job.Status != JobStatus.Succeeded || job.Result is not { WorkUnits: > 0 });

    /// <summary>Does the steps for job <paramref name="jobId"/>; <paramref name="webhookBody"/> makes the webhook's JSON.</summary>
    /// <exception cref="Exception">A step failed; the caller tries again later (every step is idempotent).</exception>
    public async Task SettleAsync(Guid jobId, JobState job, Func<string> webhookBody)
    {
        var spec = job.Spec!;
        var attempt = job.Attempts.Count > 0 ? job.Attempts[^1] : null;
        if (job.Status == JobStatus.Succeeded && job.Result is { Cached: false } result && attempt?.Worker is { } worker)
        {
            var kind = kinds.Get(spec.Kind);
            if (result.WorkUnits > 0)
            {
                if (rewards.Value.CreditDelay > TimeSpan.Zero)
                {
                    LogCreditWaits(jobId, worker, rewards.Value.CreditDelay);
                    await Task.Delay(rewards.Value.CreditDelay, time);
                }

                var parameters = models.Contains(spec.Model) ? models.Get(spec.Model).Weights?.Parameters ?? 0 : 0;
                await grains.GetGrain<IRewardLedgerGrain>(worker).CreditAsync(new CreditRequest(
                    jobId, spec.Kind, spec.Model, parameters, result.WorkUnits, result.SiloUnitsPerSecond, attempt.Device ?? "cpu", job.UpdatedAt,
                    kind.RatePerUnit(_formula, parameters)));
            }

            var fingerprint = kind.Fingerprint(result.Output);
            if (spec.Verifies is { } verified)
                await grains.GetGrain<IVerificationGrain>(verified).ReportAsync(jobId, worker, fingerprint);
            else if (result.WorkUnits > 0 && fingerprint is not null && Sampled(jobId, rewards.Value.VerificationShare))
                await grains.GetGrain<IVerificationGrain>(jobId).StartAsync(spec, worker, fingerprint);
        }
        else if (spec.Verifies is { } verified)
        {
            await grains.GetGrain<IVerificationGrain>(verified).ReportAsync(jobId, null, null);
        }

        var retainUntil = job.UpdatedAt + options.Value.ArtifactRetention;
        foreach (var artifact in job.Artifacts.DistinctBy(a => a.Id))
            await grains.GetGrain<IArtifactGrain>(artifact.Id).HoldAsync(jobId, retainUntil);

        if (spec.WebhookUrl is { } webhook)
            await grains.GetGrain<IWebhookGrain>(jobId).StartAsync(webhook, spec.Requester, webhookBody());
    }

    /// <summary>Whether the job is in the verified share: decided by its id, so a repeat after a crash decides the same.</summary>
    public static bool Sampled(Guid jobId, double share)
    {
        if (share <= 0)
            return false;
        if (share >= 1)
            return true;
        Span<byte> bytes = stackalloc byte[16];
        jobId.TryWriteBytes(bytes);
        return BitConverter.ToUInt32(bytes) / (double)uint.MaxValue < share;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId}: credit to worker {Worker} waits {Delay} (PoolAI:Rewards:CreditDelay)")]
    private partial void LogCreditWaits(Guid jobId, string worker, TimeSpan delay);
}
