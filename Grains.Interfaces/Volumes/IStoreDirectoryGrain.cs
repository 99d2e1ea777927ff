namespace PoolAI.Volumes;

/// <summary>
/// The pool's shard stores and whether each is alive (key <see cref="Default"/>, on a coordinator; the stores, their
/// deaths and drain marks in grain storage, so a coordinator that restarts still knows what died while it was away).
/// Trusted silos register their chunk store when they start and again every <see cref="StoreDirectory.RefreshInterval"/>;
/// an open miner's proxy registers it while its channel is up. A trusted store is dead once cluster membership declares
/// its silo dead (or, when membership no longer knows the silo, once it has been silent for three refresh intervals);
/// an open miner's once its channel closes or it has been silent that long. Volumes place shards on live stores and
/// rebuild what dead ones held.
/// </summary>
[Alias("poolai.IStoreDirectoryGrain")]
public interface IStoreDirectoryGrain : IGrainWithStringKey
{
    /// <summary>The key of the one directory.</summary>
    public const string Default = "default";

    /// <summary>Adds or refreshes a store.</summary>
    [Alias("Register")]
    Task RegisterAsync(StoreRegistration store);

    /// <summary>The store left for good (an open miner signed off or disconnected): it is dead from now on.</summary>
    [Alias("Unregister")]
    Task UnregisterAsync(string storeId, string reason);

    /// <summary>Every store known, alive or not.</summary>
    [Alias("GetStores")]
    Task<IReadOnlyList<StoreView>> GetStoresAsync();

    /// <summary>
    /// Marks a store draining (<paramref name="reason"/> set) or takes it back (null). A draining store stays alive and
    /// readable, but no write, rebuild, scrub or move places a shard on it (<see cref="StoreView.TakesShards"/>). Stored with
    /// the rest of the directory, so it outlives a coordinator's restart. Returns the store as the directory sees it now, or null when no store has that id (nothing changes).
    /// </summary>
    [Alias("SetDraining")]
    Task<StoreView?> SetDrainingAsync(string storeId, string? reason);

    /// <summary>
    /// The 32-byte key that shard tokens are signed with (derived from the pool's volume master key), for trusted silos
    /// whose shard transport checks the tokens that volumes hand to writers and readers.
    /// </summary>
    [Alias("GetTransportKey")]
    Task<byte[]> GetTransportKeyAsync();
}

/// <summary>Trusted chunk store or an open miner's.</summary>
[GenerateSerializer, Alias("poolai.StoreKind")]
public enum StoreKind
{
    /// <summary>A chunk store on a trusted silo.</summary>
    Trusted,

    /// <summary>An open miner's store behind the miner channel: its shards are always encrypted.</summary>
    Open,
}

/// <summary>A store announcing itself.</summary>
/// <param name="StoreId">The worker id of the silo or open miner that holds it.</param>
/// <param name="Host">Machine name, the failure domain above the store: shards of a stripe prefer distinct hosts.</param>
/// <param name="Kind">Trusted or open.</param>
/// <param name="Silo">The trusted silo it lives on (null for open miners).</param>
/// <param name="CapacityBytes">Most bytes the store offers (0: its free disk space).</param>
/// <param name="DataEndpoint">
/// Base URL of the silo's shard transport (<c>http://HOST:PORT</c>): writers and readers holding a shard token put and
/// get shards there directly, without the Orleans gateway hop; null when the silo has none (readers and writers then
/// call the store's grain).
/// </param>
[GenerateSerializer, Immutable, Alias("poolai.StoreRegistration")]
public sealed record StoreRegistration(
    [property: Id(0)] string StoreId,
    [property: Id(1)] string Host,
    [property: Id(2)] StoreKind Kind,
    [property: Id(3)] SiloAddress? Silo,
    [property: Id(4)] long CapacityBytes,
    [property: Id(5)] string? DataEndpoint = null);

/// <summary>A store as the directory sees it.</summary>
/// <param name="Registration">What it announced last.</param>
/// <param name="Alive">False once its silo was declared dead or its channel closed.</param>
/// <param name="LastSeen">When it last registered.</param>
/// <param name="DeadSince">When it was found dead (null while alive).</param>
/// <param name="Reason">Why it is dead.</param>
/// <param name="Draining">Why the store is being emptied (a <c>migrate</c> job, say); null when it is not. See <see cref="IStoreDirectoryGrain.SetDrainingAsync"/>.</param>
[GenerateSerializer, Immutable, Alias("poolai.StoreView")]
public sealed record StoreView(
    [property: Id(0)] StoreRegistration Registration,
    [property: Id(1)] bool Alive,
    [property: Id(2)] DateTimeOffset LastSeen,
    [property: Id(3)] DateTimeOffset? DeadSince,
    [property: Id(4)] string? Reason,
    [property: Id(5)] string? Draining = null)
{
    /// <summary>The store's id.</summary>
    public string StoreId => Registration.StoreId;

    /// <summary>True when new shards may be placed here: the store is alive and not draining.</summary>
    public bool TakesShards => Alive && Draining is null;
}

/// <summary>Timing of the store directory.</summary>
public static class StoreDirectory
{
    /// <summary>How often a trusted silo re-announces its store (so a new coordinator activation learns it).</summary>
    public static readonly TimeSpan RefreshInterval = TimeSpan.FromSeconds(20);
}
