namespace PoolAI.Silo.Storage;

/// <summary>
/// What a login of the pool's PostgreSQL database may do: the group role it is a member of. The grants of each group
/// role are in <c>config/sql/postgresql/005-roles.sql</c>.
/// </summary>
public enum PoolDatabaseRole
{
    /// <summary><c>poolai_coordinator</c>: owns every PoolAI table and function; hosts the pool's state and may migrate.</summary>
    Coordinator,

    /// <summary><c>poolai_miner</c>: a trusted miner silo; clustering only, no access to grain state.</summary>
    Miner,
}

/// <summary>Names of <see cref="PoolDatabaseRole"/> on the command line and in PostgreSQL.</summary>
public static class PoolDatabaseRoles
{
    /// <summary>The role names as the command line takes them.</summary>
    public static readonly IReadOnlyList<string> Names = ["coordinator", "miner"];

    /// <summary>Reads <paramref name="value"/> (any case); null when it names no role.</summary>
    public static PoolDatabaseRole? TryParse(string? value) => value?.Trim().ToLowerInvariant() switch
    {
        "coordinator" => PoolDatabaseRole.Coordinator,
        "miner" => PoolDatabaseRole.Miner,
        _ => null,
    };

    /// <summary>The name of <paramref name="role"/> as the command line takes it.</summary>
    public static string Name(this PoolDatabaseRole role) => role switch
    {
        PoolDatabaseRole.Coordinator => "coordinator",
        _ => "miner",
    };

    /// <summary>The NOLOGIN group role in PostgreSQL that holds <paramref name="role"/>'s grants.</summary>
    public static string GroupRole(this PoolDatabaseRole role) => role switch
    {
        PoolDatabaseRole.Coordinator => "poolai_coordinator",
        _ => "poolai_miner",
    };
}
