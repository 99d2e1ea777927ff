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

    /// <summary>
    /// What emptying store <paramref name="store"/> means for this volume: the shards it holds, their bytes, and — when
    /// the other stores that take shards cannot hold them at the volume's layout — what is missing. Changes nothing.
    /// </summary>
    [Alias("PlanDrain")]
    Task<DrainPlan> PlanDrainAsync(string store);

    /// <summary>
    /// Moves up to <paramref name="maxShards"/> of the shards store <paramref name="store"/> holds of this volume to other
    /// stores: each is read from the store itself when its bytes match the checksum the writer recorded, else rebuilt
    /// from the rest of its stripe; written to a store that takes shards and holds none of the stripe (another host
    /// first); recorded in the volume (<see cref="IVolumeGrain.ReplaceShardsAsync"/>); then deleted from the store. Once
    /// no stripe refers to the store and no open write was granted it, the store's other writes of the volume (garbage
    /// not collected yet) are deleted too. Call again until <see cref="DrainStep.Done"/>; the store should be draining
    /// (<see cref="IStoreDirectoryGrain.SetDrainingAsync"/>) so that nothing new lands on it meanwhile.
    /// </summary>
    /// <param name="store">The store's id (its worker id).</param>
    /// <param name="maxShards">Most shards moved by this call, 1 to <see cref="DrainStep.MaxShardsPerStep"/>.</param>
    /// <exception cref="Jobs.JobValidationException">Field <c>max_shards</c>: out of range.</exception>
    [Alias("Drain"), ResponseTimeout("00:30:00")]
    Task<DrainStep> DrainAsync(string store, int maxShards);

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
