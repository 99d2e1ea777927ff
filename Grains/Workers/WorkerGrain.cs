using PoolAI.Placement;

namespace PoolAI.Workers;

/// <summary>
/// One miner: registration, heartbeat, status and statistics, persisted on a coordinator silo. Every status change is
/// stored at once and copied to the <see cref="IWorkerStatusBoardGrain"/> that placement reads. Statistics (jobs,
/// tokens, speed) change with every job a miner runs, hundreds a second on a busy one: they are stored at most every
/// <see cref="StatisticsWriteInterval"/> and when the activation goes, so a crash loses at most that much of them (they
/// are counters for people; pay is in the reward ledger, which stores every entry).
/// </summary>
[CoordinatorFilter]
public sealed class WorkerGrain(
    [PersistentState("worker", PoolKeys.Storage)] IPersistentState<WorkerState> state,
    TimeProvider time) : Grain, IWorkerGrain
{
    /// <summary>Weight of the newest sample in the tokens/s moving average.</summary>
    public const double SpeedSmoothing = 0.2;

    /// <summary>Longest time statistics wait in memory before they are stored.</summary>
    public static readonly TimeSpan StatisticsWriteInterval = TimeSpan.FromSeconds(1);

    private bool _statisticsUnsaved;
    private IGrainTimer? _statisticsWrite;

    private string Id => this.GetPrimaryKeyString();

    private IWorkerStatusBoardGrain Board => GrainFactory.GetGrain<IWorkerStatusBoardGrain>(IWorkerStatusBoardGrain.Key);

    /// <inheritdoc />
    public async Task<WorkerView> RegisterAsync(string silo, WorkerCapabilities capabilities)
    {
        state.State.Silo = silo;
        state.State.Capabilities = capabilities;
        state.State.LastHeartbeat = time.GetUtcNow();
        if (state.State.Status == WorkerStatus.Offline)
        {
            state.State.Status = WorkerStatus.Active;
            state.State.StatusReason = null;
        }

        await WriteAsync();
        await Board.SetAsync(Id, state.State.Status);
        await Board.SetModelsAsync(Id, capabilities.Models);
        return View();
    }

    /// <inheritdoc />
    public Task HeartbeatAsync()
    {
        // Heartbeats are frequent and cheap to lose: kept in memory, persisted with the next real change.
        state.State.LastHeartbeat = time.GetUtcNow();
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public async Task<WorkerView> SignOffAsync()
    {
        if (state.State.Status == WorkerStatus.Active)
        {
            state.State.Status = WorkerStatus.Offline;
            state.State.StatusReason = "its silo stopped";
            await WriteAsync();
            await Board.SetAsync(Id, WorkerStatus.Offline);
        }

        return View();
    }

    /// <inheritdoc />
    public Task RecordJobAsync(bool succeeded, int tokens, double tokensPerSecond)
    {
        if (succeeded)
            state.State.JobsSucceeded++;
        else
            state.State.JobsFailed++;
        state.State.TokensGenerated += tokens;
        if (tokensPerSecond > 0)
        {
            state.State.TokensPerSecond = state.State.TokensPerSecond == 0
                ? tokensPerSecond
                : (1 - SpeedSmoothing) * state.State.TokensPerSecond + SpeedSmoothing * tokensPerSecond;
        }

        _statisticsUnsaved = true;
        _statisticsWrite ??= this.RegisterGrainTimer(WriteStatisticsAsync, StatisticsWriteInterval, StatisticsWriteInterval);
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken) => WriteStatisticsAsync();

    private Task WriteStatisticsAsync() => _statisticsUnsaved ? WriteAsync() : Task.CompletedTask;

    /// <summary>Stores the worker, statistics included.</summary>
    private async Task WriteAsync()
    {
        _statisticsUnsaved = false;
        try
        {
            await state.WriteStateAsync();
        }
        catch
        {
            _statisticsUnsaved = true; // stored with the next write
            throw;
        }
    }

    /// <inheritdoc />
    public async Task<WorkerView> SetStatusAsync(WorkerStatus status, string? reason = null)
    {
        if (!Enum.IsDefined(status))
            throw new ArgumentOutOfRangeException(nameof(status), status, "status must be active, paused, maintenance, banned or offline");
        state.State.Status = status;
        state.State.StatusReason = status == WorkerStatus.Active ? null : reason;
        await WriteAsync();
        await Board.SetAsync(Id, status);
        // Back from maintenance: a store a drain emptied (see the migrate task) takes shards again.
        if (status == WorkerStatus.Active)
            await GrainFactory.GetGrain<Volumes.IStoreDirectoryGrain>(Volumes.IStoreDirectoryGrain.Default).SetDrainingAsync(Id, null);
        // A banned open miner loses its channel now (its leases go back to the queue); a paused one keeps it and gets no new work.
        if (status == WorkerStatus.Banned && Miners.OpenMiners.KeyOf(Id) is not null)
            await GrainFactory.GetGrain<Miners.IOpenMinerGrain>(Id).CloseAsync($"worker {Id} is banned: {reason ?? "no reason given"}");
        return View();
    }

    /// <inheritdoc />
    public Task<WorkerView> GetAsync() => Task.FromResult(View());

    private WorkerView View() => new(
        Id, state.State.Silo, state.State.Capabilities, state.State.Status, state.State.LastHeartbeat,
        state.State.JobsSucceeded, state.State.JobsFailed, state.State.TokensGenerated, state.State.TokensPerSecond, state.State.StatusReason);
}
