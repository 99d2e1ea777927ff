using Microsoft.Extensions.Logging;
using PoolAI.Artifacts;
using PoolAI.Execution;

namespace PoolAI.Jobs;

/// <summary>
/// On a coordinator silo, once it is active: activates the queue of every kind and target jobs can name (the kinds'
/// <see cref="JobKindDescriptor.KnownTargets"/>), and the queues that were keyed by target alone before queues were per
/// kind, so that after a coordinator restart each queue wakes the jobs it counts as running and resumes dispatching its
/// waiting jobs without anyone having to ask; and the artifact index, which sweeps artifacts whose retention ended.
/// </summary>
public sealed partial class QueueRecovery(IGrainFactory grains, JobKindRegistry kinds, ILogger<QueueRecovery> logger) : ILifecycleParticipant<ISiloLifecycle>
{
    /// <inheritdoc />
    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(QueueRecovery), ServiceLifecycleStage.Active, WakeAsync);

    private async Task WakeAsync(CancellationToken cancellationToken)
    {
        foreach (var queue in kinds.QueueKeys())
        {
            try
            {
                var stats = await grains.Reference<IJobQueueGrain>(queue).GetStatsAsync();
                if (stats.Pending + stats.Running > 0)
                    LogResumed(queue, stats.Pending, stats.Running);
            }
            catch (Exception ex)
            {
                LogWakeFailed(queue, ex);
            }
        }

        try
        {
            await grains.GetGrain<IArtifactIndexGrain>(IArtifactIndexGrain.Key).GetStatsAsync();
        }
        catch (Exception ex)
        {
            LogWakeFailed("artifact index", ex);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Queue {Queue} resumed: {Pending} waiting, {Running} counted as running")]
    private partial void LogResumed(string queue, int pending, int running);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not wake {Queue}")]
    private partial void LogWakeFailed(string queue, Exception exception);
}
