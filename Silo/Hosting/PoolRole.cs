namespace PoolAI.Silo.Hosting;

/// <summary>What a silo does in the pool; one executable serves every role.</summary>
public enum PoolRole
{
    /// <summary>Hosts jobs, queues, workers and the dashboard; serves no model.</summary>
    Coordinator,

    /// <summary>Advertises its compute and serves models.</summary>
    Miner,

    /// <summary>Both, for a single machine (the embedded default).</summary>
    AllInOne,
}

/// <summary>Parsing of <see cref="PoolRole"/> from configuration.</summary>
public static class PoolRoles
{
    /// <summary>Configuration key of the role.</summary>
    public const string Key = "PoolAI:Role";

    /// <summary>The role names as written in configuration.</summary>
    public static readonly IReadOnlyList<string> Names = ["coordinator", "miner", "all-in-one"];

    /// <summary>Reads <paramref name="value"/> (null means <c>all-in-one</c>).</summary>
    /// <exception cref="PoolConfigurationException">Unknown role, naming <see cref="Key"/>.</exception>
    public static PoolRole Parse(string? value) => value?.Trim().ToLowerInvariant() switch
    {
        null or "" or "all-in-one" => PoolRole.AllInOne,
        "coordinator" => PoolRole.Coordinator,
        "miner" => PoolRole.Miner,
        _ => throw new PoolConfigurationException(Key, $"must be one of {string.Join(", ", Names)}; was '{value}'"),
    };

    /// <summary>The configuration name of <paramref name="role"/>.</summary>
    public static string Name(this PoolRole role) => role switch
    {
        PoolRole.Coordinator => "coordinator",
        PoolRole.Miner => "miner",
        _ => "all-in-one",
    };

    /// <summary>True for roles that serve models.</summary>
    public static bool ServesModels(this PoolRole role) => role is PoolRole.Miner or PoolRole.AllInOne;

    /// <summary>True for roles that host the pool's stateful grains (jobs, queues, workers, ledgers).</summary>
    public static bool HostsState(this PoolRole role) => role is PoolRole.Coordinator or PoolRole.AllInOne;
}
