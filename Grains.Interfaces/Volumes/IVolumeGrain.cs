namespace PoolAI.Volumes;

/// <summary>
/// One storage volume (key: its name, see <see cref="VolumeNames"/>), on a coordinator, persistent: its layout, quota
/// and key, and its files → extents → stripes → shard locations. It holds metadata only; the bytes travel between the
/// reader or writer and the stores (<see cref="IShardStoreGrain"/>). A file becomes visible only when
/// <see cref="CommitWriteAsync"/> records all its stripes at full redundancy, so a crash mid-write leaves the previous
/// version or nothing.
/// </summary>
[Alias("poolai.IVolumeGrain")]
public interface IVolumeGrain : IGrainWithStringKey
{
    /// <summary>Creates the volume.</summary>
    /// <exception cref="Jobs.JobValidationException">Field <c>volume</c> (bad name, already exists), <c>layout</c> (syntax, range, more shards than live stores), <c>quota</c> (negative), <c>shard_bytes</c>.</exception>
    [Alias("Create")]
    Task<VolumeView> CreateAsync(VolumeSpec spec);

    /// <summary>The volume's settings and usage.</summary>
    /// <exception cref="VolumeNotFoundException">No such volume.</exception>
    [Alias("Describe")]
    Task<VolumeView> DescribeAsync();

    /// <summary>
    /// Starts writing <paramref name="path"/>: returns a write id, the stores to place shards on and the volume's data
    /// key (for shards it must encrypt). The write is recorded, so that its shards are deleted if it is never
    /// committed (a crashed writer, a crashed coordinator).
    /// </summary>
    /// <param name="path">File path (see <see cref="VolumeNames.CheckPath"/>).</param>
    /// <param name="expectedBytes">Size when known (checked against the quota now), else −1.</param>
    /// <exception cref="Jobs.JobValidationException">Field <c>path</c>; <c>quota</c> (the file would not fit); <c>layout</c> (fewer live stores than shards per stripe).</exception>
    /// <exception cref="VolumeNotFoundException">No such volume.</exception>
    [Alias("BeginWrite")]
    Task<WriteGrant> BeginWriteAsync(string path, long expectedBytes);

    /// <summary>Makes write <paramref name="write"/> the current version of its path. The previous version's shards are deleted afterwards.</summary>
    /// <exception cref="Jobs.JobValidationException">Field <c>write</c> (unknown or expired), <c>stripes</c> (a stripe lacks shards or places two on one store), <c>quota</c>.</exception>
    [Alias("CommitWrite")]
    Task<VolumeFile> CommitWriteAsync(Guid write, FileCommit commit);

    /// <summary>Abandons write <paramref name="write"/>; its shards are deleted.</summary>
    [Alias("AbortWrite")]
    Task AbortWriteAsync(Guid write);

    /// <summary>Where the bytes of <paramref name="path"/> are, for a reader.</summary>
    /// <exception cref="VolumeNotFoundException">No such volume, or no such file (<see cref="VolumeNotFoundException.Path"/> set).</exception>
    [Alias("OpenFile")]
    Task<FileLayout> OpenFileAsync(string path);

    /// <summary>Files in path order after <see cref="ListRequest.StartAfter"/> whose path starts with <see cref="ListRequest.Prefix"/>; with a delimiter, the folders below the prefix as common prefixes (as S3's ListObjectsV2).</summary>
    [Alias("List")]
    Task<VolumeListing> ListAsync(ListRequest request);

    /// <summary>Deletes <paramref name="path"/>; false when there was no such file. Its shards are deleted afterwards.</summary>
    [Alias("DeleteFile")]
    Task<bool> DeleteFileAsync(string path);

    /// <summary>A reader found shards missing or corrupt: they are repaired from the stripe's other shards.</summary>
    [Alias("ReportDamage")]
    Task ReportDamageAsync(IReadOnlyList<ShardDamage> damage);

    /// <summary>Stripes healthy, degraded and lost, bytes per store, and the rebuild and scrub under way.</summary>
    [Alias("GetHealth")]
    Task<VolumeHealth> GetHealthAsync();

    /// <summary>Starts a scrub now (re-reads every shard, rewrites bad ones); returns at once.</summary>
    [Alias("Scrub")]
    Task ScrubAsync();

    /// <summary>Every stripe of every current file and staged part, with where its shards are (for rebuild, scrub and audits).</summary>
    [Alias("GetStripes")]
    Task<IReadOnlyList<StripeRef>> GetStripesAsync();

    /// <summary>Writes granted and not yet committed or aborted, with the stores each was granted (a drain waits for those that may put shards on its store).</summary>
    [Alias("GetPendingWrites")]
    Task<IReadOnlyList<PendingWriteRef>> GetPendingWritesAsync();

    /// <summary>
    /// Moves or rewrites shards: each replacement applies only while the stripe still has <see cref="ShardReplacement.OldStore"/>
    /// at that index (a file deleted or rewritten meanwhile is skipped, and the new shard becomes garbage). Returns how many applied.
    /// </summary>
    [Alias("ReplaceShards")]
    Task<int> ReplaceShardsAsync(IReadOnlyList<ShardReplacement> replacements);

    /// <summary>The volume's AES-256 data key (32 bytes), for the pool's own rebuild and scrub.</summary>
    [Alias("GetDataKey")]
    Task<byte[]> GetDataKeyAsync();

    /// <summary>Takes the next unused audit ticket of a shard (null when all were used: the shard needs fresh tickets).</summary>
    [Alias("TakeAuditTicket")]
    Task<AuditTicket?> TakeAuditTicketAsync(Guid write, int stripe, int shard);

    /// <summary>Starts a multipart upload of <paramref name="path"/> (S3's CreateMultipartUpload); parts are written with <see cref="BeginWriteAsync"/> and staged with <see cref="StagePartAsync"/>.</summary>
    [Alias("CreateUpload")]
    Task<Guid> CreateUploadAsync(string path);

    /// <summary>Records write <paramref name="write"/> as part <paramref name="part"/> of upload <paramref name="upload"/> (replacing an earlier one of that number). The part is not visible until the upload completes.</summary>
    [Alias("StagePart")]
    Task StagePartAsync(Guid upload, int part, Guid write, FileCommit commit);

    /// <summary>
    /// Completes upload <paramref name="upload"/> of <paramref name="path"/>: the file is the parts named, in order,
    /// without copying a byte. With <paramref name="etags"/> (one per part), each must be the ETag its part was staged with.
    /// </summary>
    /// <exception cref="Jobs.JobValidationException">Field <c>upload</c> (unknown, or for another path), <c>parts</c> (a part not staged, not ascending, another ETag), <c>quota</c>.</exception>
    [Alias("CompleteUpload")]
    Task<VolumeFile> CompleteUploadAsync(Guid upload, string path, IReadOnlyList<int> parts, IReadOnlyList<string>? etags = null);

    /// <summary>Abandons upload <paramref name="upload"/> of <paramref name="path"/> and deletes its parts' shards.</summary>
    /// <exception cref="Jobs.JobValidationException">Field <c>upload</c> (unknown, or for another path).</exception>
    [Alias("AbortUpload")]
    Task AbortUploadAsync(Guid upload, string path);
}

/// <summary>What <c>poolai volume create</c> asks for.</summary>
/// <param name="Layout"><c>rs:K+M</c> or <c>mirror:N</c> (<see cref="VolumeLayout.Parse"/>); empty for the default.</param>
/// <param name="QuotaBytes">Most bytes of files the volume holds (0: no quota).</param>
/// <param name="Encrypt">Encrypt every shard with AES-GCM (shards on open miners are encrypted whatever this says).</param>
/// <param name="ShardBytes">Shard size, bytes (0: <see cref="VolumeView.DefaultShardBytes"/>); a stripe holds K shards of data.</param>
/// <param name="WriteQuorum">
/// Shards of each stripe a write must store before the file is committed, K to K + M (0: all K + M, full redundancy).
/// Below K + M a write succeeds with up to K + M − quorum stores down or failing; the shards it could not place are
/// missing, the stripe is degraded, and the rebuild restores them as soon as enough stores are live.
/// </param>
[GenerateSerializer, Immutable, Alias("poolai.VolumeSpec")]
public sealed record VolumeSpec(
    [property: Id(0)] string? Layout,
    [property: Id(1)] long QuotaBytes = 0,
    [property: Id(2)] bool Encrypt = false,
    [property: Id(3)] int ShardBytes = 0,
    [property: Id(4)] int WriteQuorum = 0);

/// <summary>A volume's settings and usage.</summary>
[GenerateSerializer, Immutable, Alias("poolai.VolumeView")]
public sealed record VolumeView(
    [property: Id(0)] string Name,
    [property: Id(1)] VolumeLayout Layout,
    [property: Id(2)] long QuotaBytes,
    [property: Id(3)] bool Encrypt,
    [property: Id(4)] int ShardBytes,
    [property: Id(5)] long Files,
    [property: Id(6)] long UsedBytes,
    [property: Id(7)] DateTimeOffset CreatedAt,
    [property: Id(8)] int WriteQuorum = 0)
{
    /// <summary>Default shard size: 1 MiB, so a <c>rs:4+2</c> stripe carries 4 MiB of data.</summary>
    public const int DefaultShardBytes = 1 << 20;

    /// <summary>Shards of each stripe a write must store: <see cref="WriteQuorum"/>, or every shard when it is 0.</summary>
    public int ShardsToStore => WriteQuorum > 0 ? WriteQuorum : Layout.TotalShards;
}

/// <summary>Permission to write one file version.</summary>
/// <param name="Write">The write's id; shard ids carry it.</param>
/// <param name="Path">The normalised path.</param>
/// <param name="Layout">The volume's layout.</param>
/// <param name="ShardBytes">Shard size for full stripes, bytes.</param>
/// <param name="Stores">Live stores to place shards on, best first; the shards of a stripe go to distinct ones.</param>
/// <param name="Encrypt">Encrypt every shard (else only those on open miners).</param>
/// <param name="DataKey">The volume's AES-256 key, 32 bytes, unwrapped for this trusted writer.</param>
/// <param name="ShardsToStore">Shards of each stripe that must be stored (the volume's write quorum, K to K + M; 0 for all K + M); a shard that no store took is recorded missing (<see cref="ShardRecord.Missing"/>).</param>
/// <param name="DataToken">A shard token for this volume (put and get, valid for the write lease) for the stores' shard transport (<see cref="StoreRegistration.DataEndpoint"/>); null when none is issued.</param>
[GenerateSerializer, Immutable, Alias("poolai.WriteGrant")]
public sealed record WriteGrant(
    [property: Id(0)] Guid Write,
    [property: Id(1)] string Path,
    [property: Id(2)] VolumeLayout Layout,
    [property: Id(3)] int ShardBytes,
    [property: Id(4)] IReadOnlyList<StoreRegistration> Stores,
    [property: Id(5)] bool Encrypt,
    [property: Id(6)] byte[] DataKey,
    [property: Id(7)] int ShardsToStore = 0,
    [property: Id(8)] string? DataToken = null);

/// <summary>A finished write: its length, hashes and stripes.</summary>
/// <param name="Length">File length, bytes.</param>
/// <param name="Sha256">SHA-256 of the file, 32 bytes.</param>
/// <param name="ETag">The S3 ETag (quoted MD5 hex for a single write).</param>
/// <param name="Stripes">The stripes in file order.</param>
[GenerateSerializer, Immutable, Alias("poolai.FileCommit")]
public sealed record FileCommit(
    [property: Id(0)] long Length,
    [property: Id(1)] byte[] Sha256,
    [property: Id(2)] string ETag,
    [property: Id(3)] IReadOnlyList<StripeRecord> Stripes);

/// <summary>One stripe: <see cref="DataBytes"/> bytes of the file cut into K shards of <see cref="ShardBytes"/> (the last zero-padded), plus M parity shards.</summary>
/// <param name="Index">Stripe index within its write.</param>
/// <param name="DataBytes">File bytes in the stripe.</param>
/// <param name="ShardBytes">Length of each (plaintext) shard, bytes.</param>
/// <param name="Shards">Where each shard is, by shard index (K + M entries).</param>
[GenerateSerializer, Immutable, Alias("poolai.StripeRecord")]
public sealed record StripeRecord(
    [property: Id(0)] int Index,
    [property: Id(1)] int DataBytes,
    [property: Id(2)] int ShardBytes,
    [property: Id(3)] IReadOnlyList<ShardRecord> Shards);

/// <summary>One stored shard, or one that a write under its quorum could not place (<see cref="IsMissing"/>).</summary>
/// <param name="Store">The store that holds it; empty for a missing shard.</param>
/// <param name="Checksum">XxHash128 of the stored bytes (16 bytes), as the writer computed them: a reader checks what a store returns against it.</param>
/// <param name="Encrypted">Stored as AES-GCM (nonce ‖ ciphertext ‖ tag).</param>
/// <param name="Audits">Challenges prepared by the writer, each used once by a storage audit.</param>
[GenerateSerializer, Immutable, Alias("poolai.ShardRecord")]
public sealed record ShardRecord(
    [property: Id(0)] string Store,
    [property: Id(1)] byte[] Checksum,
    [property: Id(2)] bool Encrypted,
    [property: Id(3)] IReadOnlyList<AuditTicket> Audits)
{
    /// <summary>True for a shard no store holds (a write stored the stripe at its write quorum without it): the rebuild places it.</summary>
    public bool IsMissing => Store.Length == 0;

    /// <summary>A shard that a write could not place on any store.</summary>
    public static ShardRecord Missing(bool encrypted) => new(string.Empty, new byte[16], encrypted, []);
}

/// <summary>A storage audit prepared in advance: the answer a store must give for this nonce and range.</summary>
/// <param name="Nonce">16 random bytes.</param>
/// <param name="Offset">Start of the range in the stored shard, bytes.</param>
/// <param name="Count">Length of the range, bytes.</param>
/// <param name="Answer">SHA-256 of nonce ‖ range (<see cref="ShardAudits.Answer"/>).</param>
[GenerateSerializer, Immutable, Alias("poolai.AuditTicket")]
public sealed record AuditTicket([property: Id(0)] byte[] Nonce, [property: Id(1)] long Offset, [property: Id(2)] int Count, [property: Id(3)] byte[] Answer);

/// <summary>A file in a volume.</summary>
/// <param name="Path">Its path.</param>
/// <param name="Length">Bytes.</param>
/// <param name="Sha256">SHA-256, lower-case hex.</param>
/// <param name="ETag">The S3 ETag.</param>
/// <param name="Modified">When this version was committed.</param>
[GenerateSerializer, Immutable, Alias("poolai.VolumeFile")]
public sealed record VolumeFile(
    [property: Id(0)] string Path,
    [property: Id(1)] long Length,
    [property: Id(2)] string Sha256,
    [property: Id(3)] string ETag,
    [property: Id(4)] DateTimeOffset Modified);

/// <summary>A file's bytes, extent by extent (one per write; a multipart upload has one per part).</summary>
/// <param name="File">The file.</param>
/// <param name="Layout">The volume's layout.</param>
/// <param name="Extents">The extents in file order.</param>
/// <param name="DataKey">The volume's AES-256 key when a shard is encrypted, else empty.</param>
/// <param name="DataToken">A read-only shard token for this volume (an hour) for the stores' shard transport; null when none is issued.</param>
/// <param name="DataEndpoints">The shard transport of each store that has one, by store id (<see cref="StoreRegistration.DataEndpoint"/>).</param>
[GenerateSerializer, Immutable, Alias("poolai.FileLayout")]
public sealed record FileLayout(
    [property: Id(0)] VolumeFile File,
    [property: Id(1)] VolumeLayout Layout,
    [property: Id(2)] IReadOnlyList<FileExtent> Extents,
    [property: Id(3)] byte[] DataKey,
    [property: Id(4)] string? DataToken = null,
    [property: Id(5)] IReadOnlyDictionary<string, string>? DataEndpoints = null);

/// <summary>Part of a file written by one write.</summary>
/// <param name="Write">The write.</param>
/// <param name="Length">Bytes.</param>
/// <param name="Stripes">Its stripes.</param>
[GenerateSerializer, Immutable, Alias("poolai.FileExtent")]
public sealed record FileExtent([property: Id(0)] Guid Write, [property: Id(1)] long Length, [property: Id(2)] IReadOnlyList<StripeRecord> Stripes);

/// <summary>A listing request (S3 ListObjectsV2's parameters).</summary>
/// <param name="Prefix">Only paths that start with it.</param>
/// <param name="Delimiter">When set (<c>/</c>), paths with the delimiter after the prefix are rolled up into common prefixes.</param>
/// <param name="StartAfter">Only paths after it (exclusive), for paging.</param>
/// <param name="Limit">Most entries (files plus prefixes), 1–1000.</param>
[GenerateSerializer, Immutable, Alias("poolai.ListRequest")]
public sealed record ListRequest(
    [property: Id(0)] string Prefix = "",
    [property: Id(1)] string? Delimiter = null,
    [property: Id(2)] string? StartAfter = null,
    [property: Id(3)] int Limit = 1000);

/// <summary>One page of a listing.</summary>
/// <param name="Files">Files, in path order.</param>
/// <param name="CommonPrefixes">Folders rolled up by the delimiter.</param>
/// <param name="NextStartAfter">Pass as <see cref="ListRequest.StartAfter"/> for the next page; null on the last.</param>
[GenerateSerializer, Immutable, Alias("poolai.VolumeListing")]
public sealed record VolumeListing(
    [property: Id(0)] IReadOnlyList<VolumeFile> Files,
    [property: Id(1)] IReadOnlyList<string> CommonPrefixes,
    [property: Id(2)] string? NextStartAfter);

/// <summary>A shard a reader could not use.</summary>
[GenerateSerializer, Immutable, Alias("poolai.ShardDamage")]
public sealed record ShardDamage(
    [property: Id(0)] Guid Write,
    [property: Id(1)] int Stripe,
    [property: Id(2)] int Shard,
    [property: Id(3)] string Store,
    [property: Id(4)] ShardReadStatus Status,
    [property: Id(5)] string Detail);

/// <summary>A volume's health.</summary>
/// <param name="Volume">Settings and usage.</param>
/// <param name="Stripes">Stripes in all current files.</param>
/// <param name="Healthy">Stripes with every shard on a live store.</param>
/// <param name="Degraded">Stripes missing shards but still readable (at least K left).</param>
/// <param name="Lost">Stripes with fewer than K shards left.</param>
/// <param name="Stores">Bytes and shards per store.</param>
/// <param name="Repair">The rebuild, when one ran or runs.</param>
/// <param name="Scrub">The last or current scrub.</param>
[GenerateSerializer, Immutable, Alias("poolai.VolumeHealth")]
public sealed record VolumeHealth(
    [property: Id(0)] VolumeView Volume,
    [property: Id(1)] long Stripes,
    [property: Id(2)] long Healthy,
    [property: Id(3)] long Degraded,
    [property: Id(4)] long Lost,
    [property: Id(5)] IReadOnlyList<StoreShare> Stores,
    [property: Id(6)] MaintenanceProgress? Repair,
    [property: Id(7)] MaintenanceProgress? Scrub);

/// <summary>What one store holds of a volume.</summary>
[GenerateSerializer, Immutable, Alias("poolai.StoreShare")]
public sealed record StoreShare([property: Id(0)] string Store, [property: Id(1)] bool Alive, [property: Id(2)] long Shards, [property: Id(3)] long Bytes);

/// <summary>A rebuild or scrub: how far, how fast, when it ends.</summary>
/// <param name="Running">Still working.</param>
/// <param name="StripesTotal">Stripes it has to visit.</param>
/// <param name="StripesDone">Stripes visited.</param>
/// <param name="ShardsRewritten">Shards rebuilt or rewritten.</param>
/// <param name="Bytes">Bytes read and written so far.</param>
/// <param name="Started">Start time.</param>
/// <param name="Finished">End time (null while running).</param>
/// <param name="BytesPerSecond">Rate so far.</param>
/// <param name="Eta">Estimated end (null when unknown or done).</param>
/// <param name="Problems">Shards found corrupt or missing, and stripes it could not repair, with reasons (at most 100).</param>
/// <param name="WorkLeft">Not running, and its last run ended with work it could not do yet (too few live stores, a stopped run); the next rebuild continues this progress.</param>
/// <param name="Runs">Runs it took so far: a rebuild that ended with work left (too few live stores) continues in the next run, with the same start and the shards and bytes added up (the stripe counts are the current run's); a scrub is one run.</param>
[GenerateSerializer, Immutable, Alias("poolai.MaintenanceProgress")]
public sealed record MaintenanceProgress(
    [property: Id(0)] bool Running,
    [property: Id(1)] long StripesTotal,
    [property: Id(2)] long StripesDone,
    [property: Id(3)] long ShardsRewritten,
    [property: Id(4)] long Bytes,
    [property: Id(5)] DateTimeOffset Started,
    [property: Id(6)] DateTimeOffset? Finished,
    [property: Id(7)] double BytesPerSecond,
    [property: Id(8)] DateTimeOffset? Eta,
    [property: Id(9)] IReadOnlyList<string> Problems,
    [property: Id(10)] int Runs = 1,
    [property: Id(11)] bool WorkLeft = false);

/// <summary>A stripe and the file it belongs to.</summary>
/// <param name="Path">The file (or upload target).</param>
/// <param name="Write">The write that made it.</param>
/// <param name="Stripe">The stripe.</param>
[GenerateSerializer, Immutable, Alias("poolai.StripeRef")]
public sealed record StripeRef([property: Id(0)] string Path, [property: Id(1)] Guid Write, [property: Id(2)] StripeRecord Stripe);

/// <summary>A write granted and not yet committed or aborted.</summary>
/// <param name="Write">The write.</param>
/// <param name="Path">The file it writes.</param>
/// <param name="Started">When it was granted.</param>
/// <param name="Stores">The stores it was granted; null when not recorded (a write granted before stores were recorded may use any).</param>
[GenerateSerializer, Immutable, Alias("poolai.PendingWriteRef")]
public sealed record PendingWriteRef([property: Id(0)] Guid Write, [property: Id(1)] string Path, [property: Id(2)] DateTimeOffset Started, [property: Id(3)] IReadOnlyList<string>? Stores);

/// <summary>A shard moved to (or rewritten on) a store.</summary>
/// <param name="Write">The write.</param>
/// <param name="Stripe">Stripe index.</param>
/// <param name="Shard">Shard index.</param>
/// <param name="OldStore">Where the stripe's metadata has it now.</param>
/// <param name="New">The new copy.</param>
[GenerateSerializer, Immutable, Alias("poolai.ShardReplacement")]
public sealed record ShardReplacement([property: Id(0)] Guid Write, [property: Id(1)] int Stripe, [property: Id(2)] int Shard, [property: Id(3)] string OldStore, [property: Id(4)] ShardRecord New);

/// <summary>No such volume, or no such file in it.</summary>
[GenerateSerializer, Alias("poolai.VolumeNotFoundException")]
public sealed class VolumeNotFoundException : Exception
{
    /// <summary>Creates the error for <paramref name="volume"/> (and <paramref name="path"/> when a file is missing).</summary>
    public VolumeNotFoundException(string volume, string? path = null)
        : base(path is null ? $"volume: no volume named '{volume}'" : $"path: no file '{path}' in volume '{volume}'")
    {
        Volume = volume;
        Path = path;
    }

    /// <summary>The volume.</summary>
    [Id(0)]
    public string Volume { get; }

    /// <summary>The missing file, or null when the volume itself is missing.</summary>
    [Id(1)]
    public string? Path { get; }
}
