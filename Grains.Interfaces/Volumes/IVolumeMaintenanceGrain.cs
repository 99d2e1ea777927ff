namespace PoolAI.Volumes;

/// <summary>
/// Rebuild, scrub and storage audits of one volume (key: its name), on a coordinator: it reads shards, reconstructs
/// what is missing or corrupt, writes it to live stores and tells the volume where it went. Its progress is in memory.
/// </summary>
[Alias("poolai.IVolumeMaintenanceGrain")]
public interface IVolumeMaintenanceGrain : IGrainWithStringKey
{
    /// <summary>Looks at the stores now: starts a rebuild when a store holding shards is dead, and audits and scrubs when they are due. Returns at once.</summary>
    [Alias("Check")]
    Task CheckAsync();

    /// <summary>Repairs the shards named (a reader found them missing or corrupt). Returns at once.</summary>
    [Alias("Repair")]
    Task RepairAsync(IReadOnlyList<ShardDamage> damage);

    /// <summary>Starts a scrub now. Returns at once.</summary>
    [Alias("Scrub")]
    Task ScrubAsync();

    /// <summary>Runs one round of storage audits now and settles storage pay for the stores that passed; returns what happened.</summary>
    [Alias("Audit")]
    Task<AuditRound> AuditAsync();

    /// <summary>The rebuild and scrub, as far as they went.</summary>
    [Alias("GetProgress")]
    Task<(MaintenanceProgress? Repair, MaintenanceProgress? Scrub)> GetProgressAsync();
}

/// <summary>One round of audits.</summary>
/// <param name="Passed">Stores that answered right.</param>
/// <param name="Failed">Stores that answered wrong, late or not at all, with why.</param>
/// <param name="Paid">Stores credited for the period, with the byte-hours paid.</param>
[GenerateSerializer, Immutable, Alias("poolai.AuditRound")]
public sealed record AuditRound(
    [property: Id(0)] IReadOnlyList<string> Passed,
    [property: Id(1)] IReadOnlyDictionary<string, string> Failed,
    [property: Id(2)] IReadOnlyDictionary<string, double> Paid);
