using System.Diagnostics;
using Microsoft.Extensions.Options;
using PoolAI.Jobs;
using PoolAI.Placement;
using PoolAI.Workers;

namespace PoolAI.Execution;

/// <summary>
/// Runs job attempts of one kind on one target on this silo: a stateless worker confined by
/// <see cref="RunsKindFilterAttribute"/> to silos that advertise the kind and serve the target. It hands each attempt
/// to the kind's executor registered here (<see cref="JobKindRegistry.Executor"/>), renews the attempt's lease every
/// lease interval from the moment it takes the request (and stops as soon as the job says the attempt is no longer its
/// own), sends streamed output and progress through an <see cref="ExecutionChannel"/>, records the outcome in the
/// worker's statistics, and hands unfinished work back when the silo drains (<see cref="WorkDrain"/>). Everything kind
/// specific is the executor's; everything about leases, draining and reporting is here, once for every kind.
/// </summary>
[StatelessWorker(MaxLocalWorkers)]
[RunsKindFilter]
public sealed class ExecutorGrain(
    JobKindRegistry kinds,
    WorkDrain drain,
    ILocalSiloDetails silo,
    SiloMetadataLookup metadata,
    IOptions<JobOptions> options,
    IOptions<WorkerIdentity> worker) : Grain, IJobExecutorGrain
{
    /// <summary>Upper bound of concurrent attempts per silo and key; the job queues keep actual concurrency within the silo's declared slots.</summary>
    public const int MaxLocalWorkers = 64;

    /// <inheritdoc />
    public async Task<JobResult> RunAsync(ExecutionRequest request, CancellationToken cancellationToken = default)
    {
        var executor = kinds.Executor(request.Kind)
            ?? throw new InvalidOperationException($"silo {silo.SiloAddress} does not run {request.Kind} jobs");
        var descriptor = kinds.Get(request.Kind);
        var siloName = silo.SiloAddress.ToString();
        IDisposable registration;
        try
        {
            registration = drain.Enter(siloName, new RunningAttempt(request.JobId, request.Attempt, request.Kind, request.Target, DateTimeOffset.UtcNow));
        }
        catch (WorkHandedBackException)
        {
            await SayHandedBackAsync(request, siloName);
            throw;
        }

        using var _ = registration;
        using var leaseLost = new CancellationTokenSource();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, drain.HandBack, leaseLost.Token);
        using var leaseDone = new CancellationTokenSource();
        var lease = request.Sink is { } holder
            ? Task.Run(() => RenewLeaseAsync(holder, request.Attempt, siloName, request.LeaseInterval ?? options.Value.LeaseInterval, leaseLost, leaseDone.Token), CancellationToken.None)
            : Task.CompletedTask;
        using var channel = new ExecutionChannel(request, siloName, GrainFactory, request.ChunkInterval ?? options.Value.ChunkInterval);
        try
        {
            var started = Stopwatch.GetTimestamp();
            // Off the activation's scheduler: an executor may compute for a long time (the text executor waits on its
            // model's batching thread), and the activation must keep taking other attempts meanwhile.
            var output = await Task.Run(() => executor.ExecuteAsync(channel, stop.Token), stop.Token);
            channel.Flush();
            // The job gets the attempt's last output before its result; a coordinator that does not answer finds out by the lease.
            await channel.SentAsync().WaitAsync(options.Value.LeaseTimeout).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing | ConfigureAwaitOptions.ContinueOnCapturedContext);
            var result = new JobResult(output, channel.Elapsed ?? Stopwatch.GetElapsedTime(started), siloName, WorkUnits: descriptor.WorkUnits(output),
                Concurrency: double.IsFinite(channel.Concurrency) ? Math.Max(1, channel.Concurrency) : 1);
            var tokens = output is TextOutput text ? text.TokensGenerated : 0;
            await GrainFactory.GetGrain<IWorkerGrain>(worker.Value.WorkerId).RecordJobAsync(true, tokens, tokens > 0 ? result.UnitsPerSecond : 0);
            return result;
        }
        catch (OperationCanceledException) when (drain.HandBack.IsCancellationRequested && !cancellationToken.IsCancellationRequested && !leaseLost.IsCancellationRequested)
        {
            await SayHandedBackAsync(request, siloName);
            throw new WorkHandedBackException(siloName);
        }
        catch (Exception ex) when (ex is not OperationCanceledException and not JobValidationException)
        {
            // An attempt that broke on this worker counts against it; cancellations and bad input do not.
            await GrainFactory.GetGrain<IWorkerGrain>(worker.Value.WorkerId).RecordJobAsync(false, 0, 0).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing | ConfigureAwaitOptions.ContinueOnCapturedContext);
            throw;
        }
        finally
        {
            await leaseDone.CancelAsync();
            await lease;
        }
    }

    /// <inheritdoc />
    public Task<ExecutorHostInfo> DescribeAsync()
    {
        var (kind, target, _) = ExecutorKeys.Parse(this.GetPrimaryKeyString());
        var device = metadata.Of(silo.SiloAddress).GetValueOrDefault(PoolKeys.DeviceMetadata) ?? "cpu";
        return Task.FromResult(new ExecutorHostInfo(kind, target, silo.SiloAddress.ToString(), device));
    }

    /// <summary>
    /// Tells the lease holder that the attempt comes back unfinished, before the silo stops and while the drain still
    /// counts this attempt. Bounded by the lease timeout: a coordinator that does not answer finds out by the lease.
    /// </summary>
    private async Task SayHandedBackAsync(ExecutionRequest request, string siloName)
    {
        if (request.Sink is not { } holder)
            return;
        await holder.HandBackAsync(request.Attempt, siloName)
            .WaitAsync(options.Value.LeaseTimeout)
            .ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing | ConfigureAwaitOptions.ContinueOnCapturedContext);
    }

    /// <summary>
    /// Renews the lease at once and then every <paramref name="interval"/> until <paramref name="done"/>. A refusal
    /// cancels <paramref name="leaseLost"/>; a failed call (the coordinator restarting, say) is retried at the next tick.
    /// </summary>
    private static async Task RenewLeaseAsync(IExecutionSink holder, int attempt, string siloName, TimeSpan interval, CancellationTokenSource leaseLost, CancellationToken done)
    {
        using var timer = new PeriodicTimer(interval);
        try
        {
            do
            {
                bool held;
                try
                {
                    held = await holder.RenewLeaseAsync(attempt, siloName).WaitAsync(interval * 4, done);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    continue;
                }

                if (!held)
                {
                    await leaseLost.CancelAsync();
                    return;
                }
            }
            while (await timer.WaitForNextTickAsync(done));
        }
        catch (OperationCanceledException)
        {
            // The attempt ended.
        }
    }
}
