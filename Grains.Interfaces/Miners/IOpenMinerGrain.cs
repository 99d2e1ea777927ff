using PoolAI.Execution;
using PoolAI.Jobs;
using PoolAI.Volumes;
using PoolAI.Workers;

namespace PoolAI.Miners;

/// <summary>
/// One open miner — a machine the pool does not trust, connected through the gateway's miner channel — inside the
/// cluster: a proxy on a coordinator, keyed by the miner's worker id (<see cref="OpenMiners.WorkerOf"/>), that runs job
/// attempts with the same contract as <see cref="IJobExecutorGrain"/>. Queues, placement, leases, verification and
/// rewards treat it as one more worker. Everything the miner sends about an attempt names the attempt's lease, a
/// random id only this miner was given; anything naming another lease, an ended one, or coming from an earlier
/// connection is refused, counted, and changes nothing.
/// A miner that offers storage is also a shard store (<see cref="IShardStoreGrain"/>, reached through
/// <see cref="ShardStores.Of"/>): each store call goes to the miner as a request over its channel and waits for the
/// reply naming it; the proxy checks the reply against its request before the caller sees it.
/// </summary>
[Alias("poolai.IOpenMinerGrain")]
public interface IOpenMinerGrain : IShardStoreGrain
{
    /// <summary>
    /// A miner connected (or reconnected) through a gateway: records its registration, registers its worker, and sends
    /// its leases to <paramref name="link"/> from now on. An earlier connection of the same miner is closed first, and
    /// the attempts it ran are failed (a lost channel is a lost lease).
    /// </summary>
    /// <exception cref="JobValidationException">The registration breaks a rule (field named), or the worker is banned.</exception>
    [Alias("Connect")]
    Task<OpenMinerSession> ConnectAsync(IMinerLink link, OpenMinerRegistration registration);

    /// <summary>The miner of <paramref name="session"/> is stopping gracefully: it gets no new lease (it leaves the directory and its worker goes offline); its running attempts finish or are handed back.</summary>
    [Alias("SignOff")]
    Task SignOffAsync(Guid session);

    /// <summary>The connection <paramref name="session"/> ended: its running attempts fail and go back to their queues. Ignored for an earlier session.</summary>
    [Alias("Disconnect")]
    Task DisconnectAsync(Guid session, string reason);

    /// <summary>Closes the miner's connection now, if it has one, with <paramref name="reason"/> (its key was revoked, its worker banned): its running attempts go back to their queues.</summary>
    [Alias("Close")]
    Task CloseAsync(string reason);

    /// <summary>
    /// The gateway still holds the connection (sent every <c>PoolAI:Gateway:Miners:HeartbeatInterval</c>). Returns why
    /// the connection must close (session replaced; and, as a fallback to the revocation and ban that close it at once,
    /// key revoked or worker banned, checked every <see cref="OpenMiners.RecheckInterval"/>), or null to keep it.
    /// </summary>
    [Alias("Heartbeat")]
    Task<string?> HeartbeatAsync(Guid session);

    /// <summary>Runs one attempt of a job on the miner: the same contract as <see cref="IJobExecutorGrain.RunAsync"/>.</summary>
    /// <exception cref="SiloUnavailableException">The miner is not connected, or its connection was lost during the attempt.</exception>
    /// <exception cref="JobValidationException">The miner says the input breaks a rule only its executor checks.</exception>
    /// <exception cref="WorkHandedBackException">The miner is stopping and gave the attempt back.</exception>
    /// <exception cref="MinerResultRefusedException">The miner's result broke a rule; counted as a suspicion.</exception>
    [Alias("Run"), ResponseTimeout("7.00:00:00")]
    Task<JobResult> RunAsync(ExecutionRequest request, CancellationToken cancellationToken = default);

    /// <summary>The miner renews lease <paramref name="lease"/>.</summary>
    [Alias("Renew")]
    Task<MinerAnswer> RenewAsync(Guid session, string lease);

    /// <summary>Streamed output and progress of lease <paramref name="lease"/>.</summary>
    [Alias("Update")]
    Task<MinerAnswer> UpdateAsync(Guid session, string lease, int offset, string text, JobProgress? progress);

    /// <summary>The miner's result for lease <paramref name="lease"/>: the kind's output record as JSON, checked against the kind's rules before it is accepted.</summary>
    [Alias("Complete")]
    Task<MinerAnswer> CompleteAsync(Guid session, string lease, string outputJson, double concurrency);

    /// <summary>The attempt of lease <paramref name="lease"/> failed on the miner (or was handed back as it stops).</summary>
    [Alias("Fail")]
    Task<MinerAnswer> FailAsync(Guid session, string lease, string reason, bool badInput, bool handedBack);

    /// <summary>
    /// The miner's reply to a shard request of session <paramref name="session"/>: handed to the store call waiting for
    /// it once it passes the checks (its request id is one this session was sent and still waits on; its status, sizes
    /// and checksum fit the request). A reply that fails them is refused and counted; a put whose checksum is not that
    /// of the bytes sent is also a suspicion on the miner's ledger.
    /// </summary>
    [Alias("ShardReply")]
    Task<MinerAnswer> ShardReplyAsync(Guid session, MinerShardReply reply);

    /// <summary>The connection, its leases and what it was refused, for admins and tests.</summary>
    [Alias("Describe")]
    Task<OpenMinerView> DescribeAsync();
}

/// <summary>
/// The gateway's end of one miner's connection, called by its <see cref="IOpenMinerGrain"/>. Implemented by the
/// gateway as a grain observer per connection.
/// </summary>
[Alias("poolai.IMinerLink")]
public interface IMinerLink : IGrainObserver
{
    /// <summary>Sends a lease to the miner. Throws when the connection is gone.</summary>
    [Alias("Lease")]
    Task LeaseAsync(MinerLease lease);

    /// <summary>Tells the miner to stop the work of lease <paramref name="lease"/>.</summary>
    [Alias("Cancel")]
    Task CancelAsync(string lease, string reason);

    /// <summary>Closes the connection with <paramref name="reason"/>.</summary>
    [Alias("Close")]
    Task CloseAsync(string reason);

    /// <summary>Sends a call on the miner's shard store; the miner answers with a reply naming <see cref="MinerShardRequest.Id"/>. Throws when the connection is gone.</summary>
    [Alias("ShardRequest")]
    Task ShardRequestAsync(MinerShardRequest request);
}

/// <summary>What an open miner offers, from its registration message.</summary>
/// <param name="KeyId">Id of the miner key the connection authenticated with; the worker id derives from it.</param>
/// <param name="Capabilities">Device, cores, memory, models, slots and kinds it claims.</param>
/// <param name="Address">Remote address of the connection, for the logs.</param>
/// <param name="StorageBytes">Bytes of shards it offers to hold, 0 to <see cref="OpenMiners.MaxStorageBytes"/>; 0 offers no store.</param>
[GenerateSerializer, Immutable, Alias("poolai.OpenMinerRegistration")]
public sealed record OpenMinerRegistration(
    [property: Id(0)] string KeyId,
    [property: Id(1)] WorkerCapabilities Capabilities,
    [property: Id(2)] string Address,
    [property: Id(3)] long StorageBytes = 0);

/// <summary>An accepted connection.</summary>
/// <param name="Session">Id of this connection; everything the gateway forwards names it.</param>
/// <param name="Worker">The worker id credited for the miner's work.</param>
/// <param name="LeaseInterval">How often the miner must renew each lease.</param>
/// <param name="Status">The worker's status (a paused worker is connected but gets no new work).</param>
/// <param name="StatusReason">Why, when not active.</param>
[GenerateSerializer, Immutable, Alias("poolai.OpenMinerSession")]
public sealed record OpenMinerSession(
    [property: Id(0)] Guid Session,
    [property: Id(1)] string Worker,
    [property: Id(2)] TimeSpan LeaseInterval,
    [property: Id(3)] WorkerStatus Status = WorkerStatus.Active,
    [property: Id(4)] string? StatusReason = null);

/// <summary>One attempt given to an open miner.</summary>
/// <param name="Lease">Random id of the lease, known only to the pool and this miner.</param>
/// <param name="JobId">The job.</param>
/// <param name="Attempt">The attempt number.</param>
/// <param name="Kind">The job's kind.</param>
/// <param name="Target">The model id or task name.</param>
/// <param name="InputJson">The kind's input record as JSON.</param>
/// <param name="ChunkInterval">Longest time streamed output is held before it is sent.</param>
[GenerateSerializer, Immutable, Alias("poolai.MinerLease")]
public sealed record MinerLease(
    [property: Id(0)] string Lease,
    [property: Id(1)] Guid JobId,
    [property: Id(2)] int Attempt,
    [property: Id(3)] JobKind Kind,
    [property: Id(4)] string Target,
    [property: Id(5)] string InputJson,
    [property: Id(6)] TimeSpan ChunkInterval);

/// <summary>How the pool took a message about a lease.</summary>
/// <param name="Accepted">True when it was taken.</param>
/// <param name="Refusal">Why not: the rule it broke.</param>
/// <param name="Close">True when the miner's connection must close (a result that broke the kind's rules, say).</param>
[GenerateSerializer, Immutable, Alias("poolai.MinerAnswer")]
public sealed record MinerAnswer(
    [property: Id(0)] bool Accepted,
    [property: Id(1)] string? Refusal = null,
    [property: Id(2)] bool Close = false)
{
    /// <summary>Taken.</summary>
    public static readonly MinerAnswer Taken = new(true);

    /// <summary>Refused for <paramref name="reason"/>.</summary>
    public static MinerAnswer Refused(string reason, bool close = false) => new(false, reason, close);
}

/// <summary>An open miner as its proxy sees it.</summary>
/// <param name="Worker">Its worker id.</param>
/// <param name="Connected">Whether a connection is open.</param>
/// <param name="Capabilities">What it registered; null before any registration.</param>
/// <param name="Leases">Leases it holds now.</param>
/// <param name="Refused">Messages refused since the proxy's activation, by rule, with the latest reasons.</param>
/// <param name="StorageBytes">Bytes of shards the connected miner offers (0: it is no store).</param>
/// <param name="ShardRequests">Shard requests waiting for the miner's reply.</param>
[GenerateSerializer, Immutable, Alias("poolai.OpenMinerView")]
public sealed record OpenMinerView(
    [property: Id(0)] string Worker,
    [property: Id(1)] bool Connected,
    [property: Id(2)] WorkerCapabilities? Capabilities,
    [property: Id(3)] int Leases,
    [property: Id(4)] IReadOnlyList<string> Refused,
    [property: Id(5)] long StorageBytes = 0,
    [property: Id(6)] int ShardRequests = 0);

/// <summary>The miner's result broke a rule of the kind (a token count its text cannot hold, say): the attempt fails and the worker is suspected.</summary>
[GenerateSerializer, Alias("poolai.MinerResultRefusedException")]
public sealed class MinerResultRefusedException(string message) : Exception(message);

/// <summary>
/// The open miners connected to the pool, with what they registered: read by every coordinator each second (with the
/// worker status board), so the job queues count their slots. A singleton: key <see cref="Key"/>.
/// </summary>
[Alias("poolai.IOpenMinerDirectoryGrain")]
public interface IOpenMinerDirectoryGrain : IGrainWithIntegerKey
{
    /// <summary>The only key.</summary>
    public const long Key = 0;

    /// <summary>Records that <paramref name="worker"/> is connected with <paramref name="capabilities"/>, or gone (null).</summary>
    [Alias("Set")]
    Task SetAsync(string worker, WorkerCapabilities? capabilities);

    /// <summary>The connected open miners and the directory's version; an empty dictionary and the same version when nothing changed since <paramref name="knownVersion"/>.</summary>
    [Alias("Get")]
    Task<OpenMinerList> GetAsync(long knownVersion);
}

/// <summary>Connected open miners.</summary>
/// <param name="Version">Changes with every change.</param>
/// <param name="Changed">True when <paramref name="Miners"/> is the whole current list; false when nothing changed since the version asked about.</param>
/// <param name="Miners">Worker id → capabilities.</param>
[GenerateSerializer, Immutable, Alias("poolai.OpenMinerList")]
public sealed record OpenMinerList(
    [property: Id(0)] long Version,
    [property: Id(1)] bool Changed,
    [property: Id(2)] IReadOnlyDictionary<string, WorkerCapabilities> Miners);

/// <summary>Names of open miners inside the pool.</summary>
public static class OpenMiners
{
    /// <summary>Prefix of the place an open miner's attempts run at, as attempts and placements show it (<c>open/miner-…</c>).</summary>
    public const string SiloPrefix = "open/";

    /// <summary>Prefix of an open miner's worker id.</summary>
    public const string WorkerPrefix = "miner-";

    /// <summary>How often a connected miner's proxy re-reads its key and worker status, behind the revocation and ban that close the channel at once.</summary>
    public static readonly TimeSpan RecheckInterval = TimeSpan.FromSeconds(30);

    /// <summary>Largest number of slots an open miner may claim.</summary>
    public const int MaxSlots = 64;

    /// <summary>Most storage an open miner may offer, bytes (1 PiB).</summary>
    public const long MaxStorageBytes = 1L << 50;

    /// <summary>
    /// Largest message on the miner channel, either way, bytes: a shard of <see cref="ShardIds.MaxShardBytes"/> and 64 KiB
    /// for its request's other fields (ids, nonce) and the message framing.
    /// </summary>
    public const int MaxMessageBytes = ShardIds.MaxShardBytes + (64 << 10);

    /// <summary>The worker id of the miner whose key has id <paramref name="keyId"/>: the key's owner is the worker.</summary>
    public static string WorkerOf(string keyId) => WorkerPrefix + keyId;

    /// <summary>The key id of an open miner's worker id; null when <paramref name="worker"/> is not one.</summary>
    public static string? KeyOf(string worker) =>
        worker.StartsWith(WorkerPrefix, StringComparison.Ordinal) && worker.Length == WorkerPrefix.Length + 12 ? worker[WorkerPrefix.Length..] : null;

    /// <summary>Where an open miner's attempts run, as a placement names it.</summary>
    public static string SiloOf(string worker) => SiloPrefix + worker;

    /// <summary>The worker of a placement's silo name when it is an open miner's.</summary>
    public static bool TryWorkerOf(string silo, out string worker)
    {
        worker = silo.StartsWith(SiloPrefix, StringComparison.Ordinal) ? silo[SiloPrefix.Length..] : string.Empty;
        return worker.Length > 0;
    }
}

/// <summary>
/// The lease holder an open miner's local silo reports an attempt to: an object in the miner's process (a grain
/// observer) that forwards everything over the miner channel, so the local executor runs as it does on a trusted silo.
/// </summary>
[Alias("poolai.IForwardingExecutionSink")]
public interface IForwardingExecutionSink : IExecutionSink, IGrainObserver;
