using Microsoft.Extensions.Logging;
using PoolAI.Hosting;
using PoolAI.Placement;

namespace PoolAI.Admin;

/// <summary>The pool's settings on a coordinator; a change is seen at once on this silo and within a second on the others.</summary>
[CoordinatorFilter]
public sealed class PoolSettingsGrain(
    [PersistentState("settings", PoolKeys.Storage)] IPersistentState<PoolSettings> state,
    PoolSettingsCache cache,
    TimeProvider time) : Grain, IPoolSettingsGrain
{
    /// <inheritdoc />
    public Task<PoolSettings> GetAsync() => Task.FromResult(state.State ?? new PoolSettings());

    /// <inheritdoc />
    public async Task<PoolSettings> SetAsync(PoolSettings settings, string updatedBy)
    {
        ArgumentNullException.ThrowIfNull(settings);
        if (settings.MaintenanceMode && string.IsNullOrWhiteSpace(settings.MaintenanceReason))
            throw new ArgumentException("maintenance_reason is required when maintenance_mode is true", "maintenance_reason");
        state.State = settings with { MaintenanceReason = settings.MaintenanceMode ? settings.MaintenanceReason!.Trim() : null, UpdatedAt = time.GetUtcNow(), UpdatedBy = updatedBy };
        await state.WriteStateAsync();
        cache.Current = state.State;
        return state.State;
    }
}

/// <summary>
/// This silo's copy of the pool settings, which job submission reads: refreshed every second on silos that host jobs,
/// and at once on the silo where they are changed.
/// </summary>
public sealed partial class PoolSettingsCache(IGrainFactory grains, ILogger<PoolSettingsCache> logger) : ILifecycleParticipant<ISiloLifecycle>
{
    /// <summary>How often the copy is refreshed.</summary>
    public static readonly TimeSpan RefreshInterval = TimeSpan.FromSeconds(1);

    private readonly CancellationTokenSource _stopping = new();
    private Task? _refresh;

    /// <summary>The settings as last read.</summary>
    public PoolSettings Current { get; set; } = new();

    /// <summary>Throws when the pool is in maintenance.</summary>
    /// <exception cref="PoolMaintenanceException">Maintenance mode is on.</exception>
    public void EnsureAcceptingJobs()
    {
        if (Current is { MaintenanceMode: true } settings)
            throw new PoolMaintenanceException(settings.MaintenanceReason ?? "no reason given");
    }

    /// <inheritdoc />
    public void Participate(ISiloLifecycle lifecycle) => lifecycle.Subscribe(
        nameof(PoolSettingsCache),
        ServiceLifecycleStage.Active,
        _ =>
        {
            var failing = false;
            _refresh = PeriodicWork.RunAsync(
                RefreshInterval,
                runAtStart: true,
                async () =>
                {
                    Current = await grains.GetGrain<IPoolSettingsGrain>(IPoolSettingsGrain.Key).GetAsync();
                    failing = false;
                },
                ex =>
                {
                    if (!failing)
                        LogRefreshFailed(ex);
                    failing = true;
                },
                _stopping.Token);
            return Task.CompletedTask;
        },
        async _ =>
        {
            await _stopping.CancelAsync();
            if (_refresh is not null)
                await _refresh.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        });

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not read the pool settings; using the last copy")]
    private partial void LogRefreshFailed(Exception exception);
}
