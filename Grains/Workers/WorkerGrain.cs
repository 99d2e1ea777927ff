namespace PoolAI.Workers;

/// <summary>One miner: registration, heartbeat, status and statistics, persisted.</summary>
public sealed class WorkerGrain(
    [PersistentState("worker", PoolKeys.Storage)] IPersistentState<WorkerState> state,
    TimeProvider time) : Grain, IWorkerGrain
{
    /// <summary>Weight of the newest sample in the tokens/s moving average.</summary>
    public const double SpeedSmoothing = 0.2;

    /// <inheritdoc />
    public async Task<WorkerView> RegisterAsync(string silo, WorkerCapabilities capabilities)
    {
        state.State.Silo = silo;
        state.State.Capabilities = capabilities;
        state.State.LastHeartbeat = time.GetUtcNow();
        if (state.State.Status == WorkerStatus.Offline)
            state.State.Status = WorkerStatus.Active;
        await state.WriteStateAsync();
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
    public async Task RecordJobAsync(bool succeeded, int tokens, double tokensPerSecond)
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

        await state.WriteStateAsync();
    }

    /// <inheritdoc />
    public async Task<WorkerView> SetStatusAsync(WorkerStatus status)
    {
        state.State.Status = status;
        await state.WriteStateAsync();
        return View();
    }

    /// <inheritdoc />
    public Task<WorkerView> GetAsync() => Task.FromResult(View());

    private WorkerView View() => new(
        this.GetPrimaryKeyString(), state.State.Silo, state.State.Capabilities, state.State.Status, state.State.LastHeartbeat,
        state.State.JobsSucceeded, state.State.JobsFailed, state.State.TokensGenerated, state.State.TokensPerSecond);
}
