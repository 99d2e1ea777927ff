using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PoolAI.Hosting;
using PoolAI.Execution;
using PoolAI.Models;
using PoolAI.Placement;
using PoolAI.Silo.Hosting;
using PoolAI.Workers;

namespace PoolAI.Silo.Workers;

/// <summary>
/// On a serving silo: registers the worker with the capabilities its silo advertises once the silo is active, then sends
/// a heartbeat every <see cref="HeartbeatInterval"/> until the silo stops. When the models it serves change (a model
/// mirrored onto a miner that serves its whole registry, see <see cref="ServedModels"/>) it registers again, so that
/// placement sends it jobs for the new model. On a graceful stop it signs the worker off
/// (no new work reaches it), lets running generations finish for up to <see cref="PoolMinerOptions.DrainTimeout"/> and
/// hands the rest back to the queue, all before the silo leaves the cluster.
/// </summary>
public sealed partial class WorkerRegistration(
    IGrainFactory grains,
    ILocalSiloDetails silo,
    WorkerCapabilities capabilities,
    ServedModels served,
    WorkDrain drain,
    WorkerAvailability availability,
    IOptions<PoolMinerOptions> miner,
    IOptions<WorkerIdentity> identity,
    ILogger<WorkerRegistration> logger) : ILifecycleParticipant<ISiloLifecycle>
{
    /// <summary>Time between heartbeats.</summary>
    public static readonly TimeSpan HeartbeatInterval = TimeSpan.FromSeconds(10);

    private readonly CancellationTokenSource _stopping = new();
    private Task? _heartbeats;
    private readonly SemaphoreSlim _registering = new(1, 1);
    private (WorkerStatus Status, string? Reason) _seen = (WorkerStatus.Active, null);
    private IReadOnlyList<string> _advertised = [];

    /// <inheritdoc />
    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(WorkerRegistration), ServiceLifecycleStage.Active, StartAsync, StopAsync);

    private async Task StartAsync(CancellationToken cancellationToken)
    {
        var worker = grains.GetGrain<IWorkerGrain>(identity.Value.WorkerId);
        // Right after joining, this silo may not have the coordinators' metadata yet, so the worker grain has nowhere
        // to go for a moment: try again for up to a minute.
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(1);
        while (true)
        {
            try
            {
                await RegisterAsync(worker);
                break;
            }
            catch (OrleansException ex) when (DateTime.UtcNow < deadline)
            {
                LogRegisterRetry(identity.Value.WorkerId, ex.Message);
                await Task.Delay(TimeSpan.FromMilliseconds(500), cancellationToken);
            }
        }

        LogRegistered(identity.Value.WorkerId, string.Join(", ", _advertised), capabilities.Slots);
        served.Changed += async models =>
        {
            if (_stopping.IsCancellationRequested)
                return; // signed off: registering again would make a stopping silo active
            await RegisterAsync(worker);
            LogServing(identity.Value.WorkerId, string.Join(", ", models));
        };
        try
        {
            // This silo's copy of the status board may still list the worker as offline from its last stop (a pool
            // that keeps its state): read it again now rather than at the next refresh, or a job submitted in that
            // second would wait and be told that no worker serves its model.
            await availability.RefreshAsync();
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogRefreshFailed(ex);
        }

        _heartbeats = PeriodicWork.RunAsync(
            HeartbeatInterval,
            runAtStart: false,
            async () =>
            {
                await worker.HeartbeatAsync();
                // A change of the models served that could not be told when it happened is told now.
                if (!served.Current.SequenceEqual(_advertised, StringComparer.Ordinal))
                    await RegisterAsync(worker);
                Report(await worker.GetAsync());
            },
            ex => LogHeartbeatFailed(identity.Value.WorkerId, ex),
            _stopping.Token);
    }

    /// <summary>Registers the worker with the models it serves now; one registration at a time, so the last one tells the last set.</summary>
    private async Task RegisterAsync(IWorkerGrain worker)
    {
        await _registering.WaitAsync();
        try
        {
            var models = served.Current;
            Report(await worker.RegisterAsync(silo.SiloAddress.ToString(), capabilities with { Models = models }));
            _advertised = models;
        }
        finally
        {
            _registering.Release();
        }
    }

    /// <summary>Tells the miner, in its log, when the pool changes its worker's status (paused after suspicions, say) and why.</summary>
    private void Report(WorkerView view)
    {
        if ((view.Status, view.StatusReason) == _seen)
            return;
        _seen = (view.Status, view.StatusReason);
        if (view.Status == WorkerStatus.Active)
            LogActive(view.Id);
        else
            LogStatus(view.Id, view.Status, view.StatusReason ?? "no reason given");
    }

    private async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        if (_heartbeats is not null)
            await _heartbeats.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        try
        {
            await grains.GetGrain<IWorkerGrain>(identity.Value.WorkerId).SignOffAsync().WaitAsync(TimeSpan.FromSeconds(5), cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogSignOffFailed(identity.Value.WorkerId, ex);
        }

        var running = drain.Running;
        if (running > 0)
            LogDraining(running, miner.Value.DrainTimeout.TotalSeconds);
        var handedBack = await drain.DrainAsync(miner.Value.DrainTimeout, TimeSpan.FromSeconds(5));
        LogStopped(identity.Value.WorkerId, running - handedBack, handedBack);
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Could not re-read the worker status board after registering; the periodic refresh will")]
    private partial void LogRefreshFailed(Exception exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "Worker {WorkerId} is active again and gets new work")]
    private partial void LogActive(string workerId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Worker {WorkerId} is {Status} and gets no new work: {Reason}")]
    private partial void LogStatus(string workerId, WorkerStatus status, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Worker {WorkerId} registered: serves {Models} with {Slots} slots")]
    private partial void LogRegistered(string workerId, string models, int slots);

    [LoggerMessage(Level = LogLevel.Information, Message = "Worker {WorkerId} now serves {Models}")]
    private partial void LogServing(string workerId, string models);

    [LoggerMessage(Level = LogLevel.Information, Message = "Stopping: {Running} generations running; waiting up to {Seconds} s for them before handing them back")]
    private partial void LogDraining(int running, double seconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "Worker {WorkerId} stopped: {Finished} generations finished while draining, {HandedBack} handed back")]
    private partial void LogStopped(string workerId, int finished, int handedBack);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Worker {WorkerId} could not sign off; the pool will notice when its silo leaves")]
    private partial void LogSignOffFailed(string workerId, Exception exception);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Worker {WorkerId} could not register yet ({Reason}); trying again")]
    private partial void LogRegisterRetry(string workerId, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Worker {WorkerId} heartbeat failed")]
    private partial void LogHeartbeatFailed(string workerId, Exception exception);
}
