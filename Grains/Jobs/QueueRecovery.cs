using Microsoft.Extensions.Logging;
using PoolAI.Models;

namespace PoolAI.Jobs;

/// <summary>
/// On a coordinator silo, once it is active: activates the queue of every model in the registry (jobs can only be
/// submitted for those), so that after a coordinator restart each queue wakes the jobs it counts as running and
/// resumes dispatching its waiting jobs without anyone having to ask.
/// </summary>
public sealed partial class QueueRecovery(IGrainFactory grains, ModelRegistry registry, ILogger<QueueRecovery> logger) : ILifecycleParticipant<ISiloLifecycle>
{
    /// <inheritdoc />
    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(QueueRecovery), ServiceLifecycleStage.Active, WakeQueuesAsync);

    private async Task WakeQueuesAsync(CancellationToken cancellationToken)
    {
        foreach (var model in registry.Ids)
        {
            try
            {
                var stats = await grains.Reference<IJobQueueGrain>(model).GetStatsAsync();
                if (stats.Pending + stats.Running > 0)
                    LogResumed(model, stats.Pending, stats.Running);
            }
            catch (Exception ex)
            {
                LogWakeFailed(model, ex);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Queue {Model} resumed: {Pending} waiting, {Running} counted as running")]
    private partial void LogResumed(string model, int pending, int running);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not wake the queue of {Model}")]
    private partial void LogWakeFailed(string model, Exception exception);
}
