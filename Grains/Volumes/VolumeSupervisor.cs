using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PoolAI.Hosting;

namespace PoolAI.Volumes;

/// <summary>
/// On coordinators: every <see cref="VolumeOptions.CheckInterval"/>, asks each volume's maintenance grain to look at the
/// stores (rebuild after a dead store, audits and scrubs when due). Each coordinator runs it; the maintenance grain is
/// one activation per volume, so the checks are idempotent.
/// </summary>
public sealed partial class VolumeSupervisor(IGrainFactory grains, IOptions<VolumeOptions> options, ILogger<VolumeSupervisor> logger) : ILifecycleParticipant<ISiloLifecycle>
{
    private readonly CancellationTokenSource _stopping = new();
    private Task? _loop;

    /// <inheritdoc />
    public void Participate(ISiloLifecycle lifecycle) => lifecycle.Subscribe(
        nameof(VolumeSupervisor),
        ServiceLifecycleStage.Active,
        _ =>
        {
            _loop = Task.Run(LoopAsync);
            return Task.CompletedTask;
        },
        async _ =>
        {
            await _stopping.CancelAsync();
            if (_loop is not null)
                await _loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        });

    private Task LoopAsync() => PeriodicWork.RunAsync(options.Value.CheckInterval, runAtStart: false, async () =>
    {
        var volumes = await grains.GetGrain<IVolumeRegistryGrain>(IVolumeRegistryGrain.Default).ListAsync();
        await Task.WhenAll(volumes.Select(v => grains.GetGrain<IVolumeMaintenanceGrain>(v).CheckAsync()));
    }, e => LogCheckFailed(logger, e.Message), _stopping.Token);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Volume check failed (retrying next round): {Reason}")]
    private static partial void LogCheckFailed(ILogger logger, string reason);
}
