namespace PoolAI.Workers;

/// <summary>Whether a worker takes new work.</summary>
public enum WorkerStatus
{
    /// <summary>Takes new work.</summary>
    Active = 0,

    /// <summary>Paused by its miner or by the pool (e.g. too many suspicions); takes no new work.</summary>
    Paused = 1,

    /// <summary>Under maintenance; takes no new work.</summary>
    Maintenance = 2,

    /// <summary>Banned by an admin; takes no new work.</summary>
    Banned = 3,

    /// <summary>Its silo left the cluster.</summary>
    Offline = 4,
}
