namespace PoolAI.Workers;

/// <summary>One miner, keyed by its stable worker id: registration, capabilities, heartbeat, status and statistics.</summary>
[Alias("poolai.IWorkerGrain")]
public interface IWorkerGrain : IGrainWithStringKey
{
    /// <summary>
    /// Records that the worker's silo started (or restarted) at <paramref name="silo"/> with these capabilities. An
    /// <c>Offline</c> worker becomes <c>Active</c>; a paused, maintenance or banned one keeps its status.
    /// </summary>
    [Alias("Register")]
    Task<WorkerView> RegisterAsync(string silo, WorkerCapabilities capabilities);

    /// <summary>The worker is alive.</summary>
    [Alias("Heartbeat")]
    Task HeartbeatAsync();

    /// <summary>The worker's silo is stopping gracefully: an <c>Active</c> worker becomes <c>Offline</c> and gets no new work.</summary>
    [Alias("SignOff")]
    Task<WorkerView> SignOffAsync();

    /// <summary>Records one finished job: whether it succeeded, tokens made and its speed (tokens/s; 0 for jobs without tokens). Stored within a second, not before this returns.</summary>
    [Alias("RecordJob")]
    Task RecordJobAsync(bool succeeded, int tokens, double tokensPerSecond);

    /// <summary>
    /// Sets whether the worker takes new work; <paramref name="reason"/> is shown to the miner and to admins. Work it
    /// already runs finishes. Takes effect for placement within <see cref="WorkerStatusBoard.RefreshInterval"/>. Setting
    /// <see cref="WorkerStatus.Active"/> also ends the draining of the worker's store (<see cref="Volumes.IStoreDirectoryGrain.SetDrainingAsync"/>),
    /// so it takes shards again.
    /// </summary>
    [Alias("SetStatus")]
    Task<WorkerView> SetStatusAsync(WorkerStatus status, string? reason = null);

    /// <summary>The worker now.</summary>
    [Alias("Get")]
    Task<WorkerView> GetAsync();
}

/// <summary>
/// The pool-wide list of workers that take no new work (paused, maintenance, banned, offline), kept by the worker
/// grains and read by every silo that places work. A singleton: key <see cref="Key"/>.
/// </summary>
[Alias("poolai.IWorkerStatusBoardGrain")]
public interface IWorkerStatusBoardGrain : IGrainWithIntegerKey
{
    /// <summary>The only key.</summary>
    public const long Key = 0;

    /// <summary>Records <paramref name="workerId"/>'s status (an <c>Active</c> worker is removed from the list).</summary>
    [Alias("Set")]
    Task SetAsync(string workerId, WorkerStatus status);

    /// <summary>Every worker that registered, with its status.</summary>
    [Alias("GetAll")]
    Task<Dictionary<string, WorkerStatus>> GetAllAsync();

    /// <summary>Workers that take no new work, with their status.</summary>
    [Alias("GetUnavailable")]
    Task<Dictionary<string, WorkerStatus>> GetUnavailableAsync();

    /// <summary>
    /// Records the models <paramref name="workerId"/> serves now, as its latest registration said (they can grow while
    /// its silo runs, when a model is mirrored onto it; silo metadata holds only those it started with).
    /// </summary>
    [Alias("SetModels")]
    Task SetModelsAsync(string workerId, IReadOnlyList<string> models);

    /// <summary>The models each registered worker serves now, by worker id.</summary>
    [Alias("GetModels")]
    Task<Dictionary<string, string[]>> GetModelsAsync();
}

/// <summary>Constants of the worker status board.</summary>
public static class WorkerStatusBoard
{
    /// <summary>How often a placing silo refreshes its copy of the board: a status change takes effect within this time.</summary>
    public static readonly TimeSpan RefreshInterval = TimeSpan.FromSeconds(1);
}
