using System.Diagnostics;
using System.Text;
using Microsoft.Extensions.Options;
using PoolAI.Jobs;
using PoolAI.Workers;

namespace PoolAI.Inference;

/// <summary>
/// Serves one model on this silo. A stateless worker confined by <see cref="ServesModelFilterAttribute"/>
/// to silos that advertise the model; its activations share the silo's <see cref="ModelHost"/>.
/// Generation runs on the thread pool, not on the activation's scheduler, and partial output is sent
/// to the request's sink at most every chunk interval (the first piece at once).
/// </summary>
[StatelessWorker(MaxLocalWorkers)]
[ServesModelFilter]
public sealed class InferenceGrain(ModelHost host, ILocalSiloDetails silo, IOptions<JobOptions> options, IOptions<WorkerIdentity> worker) : Grain, IInferenceGrain
{
    /// <summary>Upper bound of concurrent generations per silo; the job queues keep actual concurrency within the silo's declared slots.</summary>
    public const int MaxLocalWorkers = 64;

    private string Model => this.GetPrimaryKeyString();

    /// <inheritdoc />
    public async Task<JobResult> GenerateAsync(GenerationRequest request, CancellationToken cancellationToken = default)
    {
        JobSpecRules.Validate(request.Settings);
        var model = Model;
        var siloName = silo.SiloAddress.ToString();
        var generator = await Task.Run(() => host.Get(model), cancellationToken);
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
        var outcome = await Task.Run(
            () => generator.Generate(
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
                cancellationToken),
            cancellationToken);
        if (sink is not null && pending.Length > 0)
            Send(latestTokens);

        var result = new JobResult(outcome.Text, outcome.Tokens, outcome.FinishReason, outcome.Elapsed, siloName);
        await GrainFactory.GetGrain<IWorkerGrain>(worker.Value.WorkerId).RecordJobAsync(true, result.TokensGenerated, result.TokensPerSecond);
        return result;
    }

    /// <inheritdoc />
    public async Task<InferenceHostInfo> DescribeAsync()
    {
        var model = Model;
        var generator = await Task.Run(() => host.Get(model));
        return new InferenceHostInfo(model, silo.SiloAddress.ToString(), generator.Model.Model.ParameterCount, "cpu");
    }
}
