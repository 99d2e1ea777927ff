namespace PoolAI.Volumes;

/// <summary>What emptying one store means for one volume (see <see cref="IVolumeMaintenanceGrain.PlanDrainAsync"/>).</summary>
/// <param name="Volume">The volume.</param>
/// <param name="Layout">Its layout.</param>
/// <param name="Shards">Shards the store holds of it (current files and staged parts).</param>
/// <param name="Bytes">Their stored size, bytes (shard bytes, plus the AES-GCM overhead of encrypted ones).</param>
/// <param name="Shortfall">
/// Null when the other stores that take shards can hold every one of them at the layout; otherwise what is missing,
/// in words (how many stores take shards, how many the layout needs, how many stripes have nowhere to go).
/// </param>
[GenerateSerializer, Immutable, Alias("poolai.DrainPlan")]
public sealed record DrainPlan(
    [property: Id(0)] string Volume,
    [property: Id(1)] VolumeLayout Layout,
    [property: Id(2)] long Shards,
    [property: Id(3)] long Bytes,
    [property: Id(4)] string? Shortfall);

/// <summary>One call's worth of moving a store's shards of a volume (see <see cref="IVolumeMaintenanceGrain.DrainAsync"/>).</summary>
/// <param name="Moved">Shards moved by this call (the volume refers to their new copy and the store's copy is deleted).</param>
/// <param name="Copied">Of those, shards read from the store itself.</param>
/// <param name="Rebuilt">Of those, shards rebuilt from the rest of their stripe (the store's copy was missing or corrupt).</param>
/// <param name="Bytes">Shard bytes written elsewhere by this call.</param>
/// <param name="Remaining">Shards of the volume the store still holds after this call.</param>
/// <param name="Waiting">Open writes of the volume that were granted the store and may still put shards on it.</param>
/// <param name="Cleared">Shards of writes nothing refers to (garbage not collected yet) deleted from the store by this call.</param>
/// <param name="Problems">Shards that could not be moved, with why (at most 100).</param>
[GenerateSerializer, Immutable, Alias("poolai.DrainStep")]
public sealed record DrainStep(
    [property: Id(0)] long Moved,
    [property: Id(1)] long Copied,
    [property: Id(2)] long Rebuilt,
    [property: Id(3)] long Bytes,
    [property: Id(4)] long Remaining,
    [property: Id(5)] int Waiting,
    [property: Id(6)] int Cleared,
    [property: Id(7)] IReadOnlyList<string> Problems)
{
    /// <summary>Most shards one call moves.</summary>
    public const int MaxShardsPerStep = 4096;

    /// <summary>The store holds nothing of the volume and no open write can still put anything there.</summary>
    public bool Done => Remaining == 0 && Waiting == 0;
}
