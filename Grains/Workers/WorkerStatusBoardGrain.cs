using PoolAI.Placement;

namespace PoolAI.Workers;

/// <summary>The pool-wide list of workers that take no new work, and the models each serves, persisted (state name <c>board</c>) so it survives a coordinator restart.</summary>
[CoordinatorFilter]
public sealed class WorkerStatusBoardGrain(
    [PersistentState("board", PoolKeys.Storage)] IPersistentState<WorkerStatusBoardState> state) : Grain, IWorkerStatusBoardGrain
{
    /// <inheritdoc />
    public async Task SetAsync(string workerId, WorkerStatus status)
    {
        var changed = status == WorkerStatus.Active
            ? state.State.Unavailable.Remove(workerId)
            : !state.State.Unavailable.TryGetValue(workerId, out var before) || before != status;
        if (status != WorkerStatus.Active)
            state.State.Unavailable[workerId] = status;
        if (!state.State.Known.TryGetValue(workerId, out var known) || known != status)
        {
            state.State.Known[workerId] = status;
            changed = true;
        }

        if (changed)
            await state.WriteStateAsync();
    }

    /// <inheritdoc />
    public async Task SetModelsAsync(string workerId, IReadOnlyList<string> models)
    {
        if (state.State.Models.TryGetValue(workerId, out var known) && known.SequenceEqual(models, StringComparer.Ordinal))
            return;
        state.State.Models[workerId] = [.. models];
        await state.WriteStateAsync();
    }

    /// <inheritdoc />
    public Task<Dictionary<string, string[]>> GetModelsAsync() => Task.FromResult(new Dictionary<string, string[]>(state.State.Models, StringComparer.Ordinal));

    /// <inheritdoc />
    public Task<Dictionary<string, WorkerStatus>> GetAllAsync() => Task.FromResult(new Dictionary<string, WorkerStatus>(state.State.Known));

    /// <inheritdoc />
    public Task<Dictionary<string, WorkerStatus>> GetUnavailableAsync() => Task.FromResult(new Dictionary<string, WorkerStatus>(state.State.Unavailable));
}

/// <summary>The status board's persisted state.</summary>
[GenerateSerializer, Alias("poolai.WorkerStatusBoardState")]
public sealed class WorkerStatusBoardState
{
    /// <summary>Workers that take no new work, by worker id.</summary>
    [Id(0)] public Dictionary<string, WorkerStatus> Unavailable { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Every worker that ever registered, with its status, by worker id.</summary>
    [Id(1)] public Dictionary<string, WorkerStatus> Known { get; set; } = new(StringComparer.Ordinal);

    /// <summary>The models each worker serves, as its latest registration said, by worker id.</summary>
    [Id(2)] public Dictionary<string, string[]> Models { get; set; } = new(StringComparer.Ordinal);
}
