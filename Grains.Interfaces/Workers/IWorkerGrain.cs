namespace PoolAI.Workers;

/// <summary>One miner, keyed by its stable worker id: registration, capabilities, heartbeat and statistics.</summary>
[Alias("poolai.IWorkerGrain")]
public interface IWorkerGrain : IGrainWithStringKey
{
    /// <summary>Records that the worker's silo started (or restarted) at <paramref name="silo"/> with these capabilities.</summary>
    [Alias("Register")]
    Task<WorkerView> RegisterAsync(string silo, WorkerCapabilities capabilities);

    /// <summary>The worker is alive.</summary>
    [Alias("Heartbeat")]
    Task HeartbeatAsync();

    /// <summary>Records one finished generation: whether it succeeded, tokens made and its speed (tokens/s).</summary>
    [Alias("RecordJob")]
    Task RecordJobAsync(bool succeeded, int tokens, double tokensPerSecond);

    /// <summary>Sets whether the worker takes new work.</summary>
    [Alias("SetStatus")]
    Task<WorkerView> SetStatusAsync(WorkerStatus status);

    /// <summary>The worker now.</summary>
    [Alias("Get")]
    Task<WorkerView> GetAsync();
}
