using System.Diagnostics;
using System.Text;
using Microsoft.Extensions.Options;
using PoolAI.Jobs;
using PoolAI.Workers;

namespace PoolAI.Inference;

/// <summary>
/// Serves one model on this silo. A stateless worker confined by <see cref="ServesModelFilterAttribute"/>
/// to silos that advertise the model; its activations share the silo's <see cref="ModelHost"/>.
/// Generation runs in the model's <see cref="Models.ContinuousBatcher"/> (one thread per model, its forward passes shared
/// with the silo's other generations of that model), not on the activation's scheduler, and partial output is sent
/// to the request's sink at most every chunk interval (the first piece at once). While it holds a request with a
/// sink it renews the job's lease every lease interval, and stops as soon as the sink says the attempt is no longer
/// its own. When the silo drains (<see cref="GenerationDrain"/>) unfinished work is handed back.
/// </summary>
[StatelessWorker(MaxLocalWorkers)]
[ServesModelFilter]
public sealed class InferenceGrain(
    ModelHost host,
    GenerationDrain drain,
    ILocalSiloDetails silo,
    IOptions<JobOptions> options,
    IOptions<WorkerIdentity> worker) : Grain, IInferenceGrain
{
    /// <summary>Upper bound of concurrent generations per silo; the job queues keep actual concurrency within the silo's declared slots.</summary>
    public const int MaxLocalWorkers = 64;

    private string Model => InferenceKeys.Parse(this.GetPrimaryKeyString()).Model;

    /// <inheritdoc />
    public async Task<JobResult> GenerateAsync(GenerationRequest request, CancellationToken cancellationToken = default)
    {
        JobSpecRules.Validate(request.Settings);
        var model = Model;
        var siloName = silo.SiloAddress.ToString();
        IDisposable registration;
        try
        {
            registration = drain.Enter(siloName);
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
        try
        {
            var result = await GenerateCoreAsync(request, model, siloName, stop.Token);
            await GrainFactory.GetGrain<IWorkerGrain>(worker.Value.WorkerId).RecordJobAsync(true, result.TokensGenerated, result.TokensPerSecond);
            return result;
        }
        catch (OperationCanceledException) when (drain.HandBack.IsCancellationRequested && !cancellationToken.IsCancellationRequested && !leaseLost.IsCancellationRequested)
        {
            await SayHandedBackAsync(request, siloName);
            throw new WorkHandedBackException(siloName);
        }
        catch (Exception ex) when (ex is not OperationCanceledException and not JobValidationException)
        {
            // A generation that broke on this worker counts against it; cancellations and bad input do not.
            await GrainFactory.GetGrain<IWorkerGrain>(worker.Value.WorkerId).RecordJobAsync(false, 0, 0).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing | ConfigureAwaitOptions.ContinueOnCapturedContext);
            throw;
        }
        finally
        {
            await leaseDone.CancelAsync();
            await lease;
        }
    }

    /// <summary>
    /// Tells the lease holder that the attempt comes back unfinished, before the silo stops and while the drain still
    /// counts this generation. Bounded by the lease timeout: a coordinator that does not answer finds out by the lease.
    /// </summary>
    private async Task SayHandedBackAsync(GenerationRequest request, string siloName)
    {
        if (request.Sink is not { } holder)
            return;
        await holder.HandBackAsync(request.Attempt, siloName)
            .WaitAsync(options.Value.LeaseTimeout)
            .ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing | ConfigureAwaitOptions.ContinueOnCapturedContext);
    }

    /// <inheritdoc />
    public async Task<InferenceHostInfo> DescribeAsync()
    {
        var model = Model;
        var batcher = await Task.Run(() => host.Get(model));
        return new InferenceHostInfo(model, silo.SiloAddress.ToString(), batcher.Model.Model.ParameterCount, "cpu");
    }

    private async Task<JobResult> GenerateCoreAsync(GenerationRequest request, string model, string siloName, CancellationToken cancellationToken)
    {
        var batcher = await Task.Run(() => host.Get(model), cancellationToken);
        var sink = request.Sink;
        var interval = request.ChunkInterval ?? options.Value.ChunkInterval;
        var pending = new StringBuilder();
        var pendingOffset = 0;
        var lastSent = 0L;

        void Send(int tokens)
        {
            sink!.OnGeneratedAsync(new GenerationChunk(request.Attempt, pendingOffset, pending.ToString(), tokens, siloName)).Ignore();
            pending.Clear();
            lastSent = Stopwatch.GetTimestamp();
        }

        var latestTokens = 0;
        var outcome = await batcher.GenerateAsync(
            request.Settings,
            sink is null ? null : (offset, text, tokens) =>
            {
                if (pending.Length == 0)
                    pendingOffset = offset;
                pending.Append(text);
                latestTokens = tokens;
                if (lastSent == 0 || Stopwatch.GetElapsedTime(lastSent) >= interval)
                    Send(tokens);
            },
            cancellationToken);
        if (sink is not null && pending.Length > 0)
            Send(latestTokens);
        return new JobResult(outcome.Text, outcome.Tokens, outcome.FinishReason, outcome.Elapsed, siloName);
    }

    /// <summary>
    /// Renews the lease at once and then every <paramref name="interval"/> until <paramref name="done"/>. A refusal
    /// cancels <paramref name="leaseLost"/>; a failed call (the coordinator restarting, say) is retried at the next tick.
    /// </summary>
    private static async Task RenewLeaseAsync(IGenerationSink holder, int attempt, string siloName, TimeSpan interval, CancellationTokenSource leaseLost, CancellationToken done)
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
            // The generation ended.
        }
    }
}
