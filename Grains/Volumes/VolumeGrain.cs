using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PoolAI.Jobs;
using PoolAI.Placement;
using PoolAI.Storage;

namespace PoolAI.Volumes;

/// <summary>
/// One volume's metadata (see <see cref="IVolumeGrain"/>). Every change is persisted before it is reported; shards a
/// change orphans (a replaced or deleted file, an aborted or expired write) are listed as garbage in the same write
/// and deleted from their stores afterwards, so a crash between the two only delays their deletion.
/// </summary>
[CoordinatorFilter]
public sealed partial class VolumeGrain(
    [PersistentState("volume", PoolKeys.Storage)] IPersistentState<VolumeState> state,
    VolumeKeyring keyring,
    IOptions<VolumeOptions> options,
    TimeProvider clock,
    ILogger<VolumeGrain> logger) : Grain, IVolumeGrain
{
    private readonly SerializedWrites<VolumeState> _writes = new(state);
    private readonly Dictionary<string, int> _auditsUsed = new(StringComparer.Ordinal);
    private byte[]? _dataKey;
    private DateTimeOffset _lastSweep = DateTimeOffset.MinValue;

    private string Name => this.GetPrimaryKeyString();

    private VolumeState S => state.State;

    /// <inheritdoc />
    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        // Writes granted before a restart can no longer be committed by anyone who holds them for long; expire them on schedule.
        this.RegisterGrainTimer(ExpireWritesAsync, new GrainTimerCreationOptions(options.Value.WriteLease / 4, options.Value.WriteLease / 4) { Interleave = false });
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public async Task<VolumeView> CreateAsync(VolumeSpec spec)
    {
        VolumeNames.CheckName(Name);
        if (S.Volume is not null)
            throw new JobValidationException("volume", $"a volume named '{Name}' already exists");
        var stores = await LiveStoresAsync();
        var (layout, shardBytes) = VolumeRules.CheckSpec(spec, stores.Count);
        S.Volume = new VolumeView(Name, layout, spec.QuotaBytes, spec.Encrypt, shardBytes, 0, 0, clock.GetUtcNow(), spec.WriteQuorum);
        S.WrappedKey = keyring.NewWrappedKey(Name);
        await _writes.WriteAsync();
        await GrainFactory.GetGrain<IVolumeRegistryGrain>(IVolumeRegistryGrain.Default).AddAsync(Name);
        LogCreated(logger, Name, layout.ToString(), spec.Encrypt);
        return S.Volume;
    }

    /// <inheritdoc />
    public Task<VolumeView> DescribeAsync() => Task.FromResult(Volume);

    /// <inheritdoc />
    public async Task<WriteGrant> BeginWriteAsync(string path, long expectedBytes)
    {
        var volume = Volume;
        path = VolumeNames.CheckPath(path);
        if (expectedBytes >= 0)
            VolumeRules.CheckQuota(volume, expectedBytes, S.Files.TryGetValue(path, out var old) ? old.File.Length : 0);
        var stores = await LiveStoresAsync();
        VolumeRules.CheckStores(volume.Layout, stores.Count, volume.ShardsToStore);
        var write = Guid.NewGuid();
        S.Pending[write] = new PendingWrite(path, clock.GetUtcNow(), null, [.. stores.Select(s => s.StoreId)]);
        await _writes.WriteAsync();
        return new WriteGrant(write, path, volume.Layout, volume.ShardBytes, stores, volume.Encrypt, DataKey, volume.ShardsToStore,
            ShardTokens.Issue(keyring.ShardTransportKey, Name, write: true, clock.GetUtcNow() + options.Value.WriteLease, write));
    }

    /// <inheritdoc />
    public async Task<VolumeFile> CommitWriteAsync(Guid write, FileCommit commit)
    {
        var volume = Volume;
        if (!S.Pending.TryGetValue(write, out var pending) || pending.Upload is not null)
            throw new JobValidationException("write", $"write {write:N} is unknown, expired, already committed or part of an upload");
        VolumeRules.CheckCommit(volume.Layout, volume.ShardBytes, commit, volume.ShardsToStore);
        var replaced = S.Files.GetValueOrDefault(pending.Path);
        VolumeRules.CheckQuota(volume, commit.Length, replaced?.File.Length ?? 0);
        var file = new VolumeFile(pending.Path, commit.Length, Convert.ToHexStringLower(commit.Sha256), commit.ETag, clock.GetUtcNow());
        S.Pending.Remove(write);
        S.Files[pending.Path] = new FileState { File = file, Extents = [new FileExtent(write, commit.Length, commit.Stripes)] };
        if (replaced is not null)
            AddGarbage(replaced.Extents);
        Recount();
        await _writes.WriteAsync();
        CollectGarbageSoon();
        return file;
    }

    /// <inheritdoc />
    public async Task AbortWriteAsync(Guid write)
    {
        if (!S.Pending.Remove(write))
            return;
        S.Garbage[write] = [.. (await AllStoresAsync()).Select(s => s.StoreId)];
        await _writes.WriteAsync();
        CollectGarbageSoon();
    }

    /// <inheritdoc />
    public async Task<FileLayout> OpenFileAsync(string path)
    {
        var volume = Volume;
        path = VolumeNames.CheckPath(path);
        if (!S.Files.TryGetValue(path, out var file))
            throw new VolumeNotFoundException(Name, path);
        var encrypted = file.Extents.Any(e => e.Stripes.Any(s => s.Shards.Any(h => h.Encrypted)));
        var holders = file.Extents.SelectMany(e => e.Stripes).SelectMany(s => s.Shards).Select(h => h.Store).ToHashSet(StringComparer.Ordinal);
        Dictionary<string, string> endpoints;
        try
        {
            endpoints = (await AllStoresAsync())
                .Where(s => s.Registration.DataEndpoint is not null && s.Registration.Kind == StoreKind.Trusted && holders.Contains(s.StoreId))
                .ToDictionary(s => s.StoreId, s => s.Registration.DataEndpoint!, StringComparer.Ordinal);
        }
        catch (Exception e) when (e is not VolumeNotFoundException)
        {
            endpoints = []; // the directory is moving (a coordinator failing over): the read goes through the stores' grains
        }

        return new FileLayout(file.File, volume.Layout, file.Extents, encrypted ? DataKey : [],
            endpoints.Count > 0 ? ShardTokens.Issue(keyring.ShardTransportKey, Name, write: false, clock.GetUtcNow() + ReadTokenLifetime) : null, endpoints);
    }

    /// <summary>How long the read token of a file's layout is valid: a read that lasts longer gets its shards through the stores' grains.</summary>
    public static readonly TimeSpan ReadTokenLifetime = TimeSpan.FromHours(1);

    /// <inheritdoc />
    public Task<VolumeListing> ListAsync(ListRequest request)
    {
        _ = Volume;
        return Task.FromResult(VolumeListings.Page(S.Files.Values.Select(f => f.File), request));
    }

    /// <inheritdoc />
    public async Task<bool> DeleteFileAsync(string path)
    {
        _ = Volume;
        path = VolumeNames.CheckPath(path);
        if (!S.Files.Remove(path, out var file))
            return false;
        AddGarbage(file.Extents);
        Recount();
        await _writes.WriteAsync();
        CollectGarbageSoon();
        return true;
    }

    /// <inheritdoc />
    public Task ReportDamageAsync(IReadOnlyList<ShardDamage> damage)
    {
        _ = Volume;
        foreach (var d in damage)
            LogDamage(logger, Name, d.Write, d.Stripe, d.Shard, d.Store, d.Status, d.Detail);
        return GrainFactory.GetGrain<IVolumeMaintenanceGrain>(Name).RepairAsync(damage);
    }

    /// <inheritdoc />
    public async Task<VolumeHealth> GetHealthAsync()
    {
        var volume = Volume;
        var stores = await AllStoresAsync();
        var alive = stores.Where(s => s.Alive).Select(s => s.StoreId).ToHashSet(StringComparer.Ordinal);
        var stripes = AllStripes().Select(s => s.Stripe).ToList();
        var (healthy, degraded, lost) = VolumeRules.Health(volume.Layout, stripes, alive.Contains);
        var shares = stripes.SelectMany(s => s.Shards.Where(h => !h.IsMissing).Select(h => (h.Store, Bytes: (long)s.ShardBytes + (h.Encrypted ? ShardCrypto.OverheadBytes : 0))))
            .GroupBy(x => x.Store, StringComparer.Ordinal)
            .Select(g => new StoreShare(g.Key, alive.Contains(g.Key), g.LongCount(), g.Sum(x => x.Bytes)))
            .OrderBy(s => s.Store, StringComparer.Ordinal)
            .ToList();
        var (repair, scrub) = await GrainFactory.GetGrain<IVolumeMaintenanceGrain>(Name).GetProgressAsync();
        return new VolumeHealth(volume, stripes.Count, healthy, degraded, lost, shares, repair, scrub);
    }

    /// <inheritdoc />
    public Task ScrubAsync()
    {
        _ = Volume;
        return GrainFactory.GetGrain<IVolumeMaintenanceGrain>(Name).ScrubAsync();
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<StripeRef>> GetStripesAsync() => Task.FromResult<IReadOnlyList<StripeRef>>(S.Volume is null ? [] : AllStripes().ToList());

    /// <inheritdoc />
    public Task<IReadOnlyList<PendingWriteRef>> GetPendingWritesAsync() => Task.FromResult<IReadOnlyList<PendingWriteRef>>(
        [.. S.Pending.Select(p => new PendingWriteRef(p.Key, p.Value.Path, p.Value.Started, p.Value.Stores))]);

    /// <inheritdoc />
    public async Task<int> ReplaceShardsAsync(IReadOnlyList<ShardReplacement> replacements)
    {
        var applied = 0;
        var orphans = new List<ShardReplacement>();
        foreach (var replacement in replacements)
        {
            var done = false;
            foreach (var (extent, set) in FindExtents(replacement.Write))
            {
                var current = extent();
                var stripes = current.Stripes.ToList();
                var at = stripes.FindIndex(s => s.Index == replacement.Stripe);
                if (at < 0 || replacement.Shard >= stripes[at].Shards.Count || stripes[at].Shards[replacement.Shard].Store != replacement.OldStore)
                    continue;
                if (stripes[at].Shards.Where((_, i) => i != replacement.Shard).Any(s => s.Store == replacement.New.Store))
                    continue; // two shards of a stripe never share a store
                var shards = stripes[at].Shards.ToList();
                shards[replacement.Shard] = replacement.New;
                stripes[at] = stripes[at] with { Shards = shards };
                set(current with { Stripes = stripes });
                _auditsUsed.Remove(TicketKey(replacement.Write, replacement.Stripe, replacement.Shard));
                done = true;
                applied++;
                break;
            }

            if (!done && replacement.New.Store != replacement.OldStore)
                orphans.Add(replacement);
        }

        if (applied > 0)
            await _writes.WriteAsync();
        if (orphans.Count > 0)
        {
            // The file changed while the shard was rebuilt: the new copy belongs to nothing.
            var grains = GrainFactory;
            _ = Task.WhenAll(orphans.Select(o => ShardStores.Of(grains, o.New.Store).DeleteShardsAsync([ShardIds.Of(Name, o.Write, o.Stripe, o.Shard)])));
        }

        return applied;
    }

    /// <inheritdoc />
    public Task<byte[]> GetDataKeyAsync()
    {
        _ = Volume;
        return Task.FromResult(DataKey);
    }

    /// <inheritdoc />
    public Task<AuditTicket?> TakeAuditTicketAsync(Guid write, int stripe, int shard)
    {
        foreach (var (extent, _) in FindExtents(write))
        {
            var record = extent().Stripes.FirstOrDefault(s => s.Index == stripe);
            if (record is null || shard >= record.Shards.Count)
                continue;
            var key = TicketKey(write, stripe, shard);
            var used = _auditsUsed.GetValueOrDefault(key);
            var tickets = record.Shards[shard].Audits;
            if (used >= tickets.Count)
                return Task.FromResult<AuditTicket?>(null);
            _auditsUsed[key] = used + 1;
            return Task.FromResult<AuditTicket?>(tickets[used]);
        }

        return Task.FromResult<AuditTicket?>(null);
    }

    private VolumeView Volume => S.Volume ?? throw new VolumeNotFoundException(Name);

    private byte[] DataKey => _dataKey ??= keyring.Unwrap(Name, S.WrappedKey);

    private static string TicketKey(Guid write, int stripe, int shard) => $"{write:N}/{stripe}.{shard}";

    private IEnumerable<StripeRef> AllStripes() =>
        S.Files.Values.SelectMany(f => f.Extents.SelectMany(e => e.Stripes.Select(s => new StripeRef(f.File.Path, e.Write, s))))
            .Concat(S.Uploads.Values.SelectMany(u => u.Parts.Values.SelectMany(p => p.Extent.Stripes.Select(s => new StripeRef(u.Path, p.Extent.Write, s)))));

    /// <summary>Every extent written by <paramref name="write"/> (in a file or a staged part), each with a getter and a setter.</summary>
    private List<(Func<FileExtent> Get, Action<FileExtent> Set)> FindExtents(Guid write)
    {
        var found = new List<(Func<FileExtent>, Action<FileExtent>)>();
        foreach (var file in S.Files.Values)
        {
            for (var i = 0; i < file.Extents.Count; i++)
            {
                var index = i;
                if (file.Extents[i].Write == write)
                    found.Add((() => file.Extents[index], e => file.Extents[index] = e));
            }
        }

        foreach (var upload in S.Uploads.Values)
        {
            foreach (var number in upload.Parts.Where(p => p.Value.Extent.Write == write).Select(p => p.Key).ToList())
                found.Add((() => upload.Parts[number].Extent, e => upload.Parts[number] = upload.Parts[number] with { Extent = e }));
        }

        return found;
    }

    private void AddGarbage(IEnumerable<FileExtent> extents)
    {
        foreach (var extent in extents)
            S.Garbage[extent.Write] = [.. extent.Stripes.SelectMany(s => s.Shards.Where(h => !h.IsMissing).Select(h => h.Store)).Distinct(StringComparer.Ordinal)];
    }

    private void Recount() => S.Volume = Volume with
    {
        Files = S.Files.Count,
        UsedBytes = S.Files.Values.Sum(f => f.File.Length),
    };

    /// <summary>The stores a new write may use: alive and not draining.</summary>
    private async Task<List<StoreRegistration>> LiveStoresAsync() => StripePlacement.Targets(await AllStoresAsync());

    private Task<IReadOnlyList<StoreView>> AllStoresAsync() => GrainFactory.GetGrain<IStoreDirectoryGrain>(IStoreDirectoryGrain.Default).GetStoresAsync();

    private async Task ExpireWritesAsync(CancellationToken cancellationToken)
    {
        if (S.Volume is not null && clock.GetUtcNow() - _lastSweep >= options.Value.SweepInterval)
        {
            _lastSweep = clock.GetUtcNow();
            await SweepAsync();
        }

        var cutoff = clock.GetUtcNow() - options.Value.WriteLease;
        var expired = S.Pending.Where(p => p.Value.Started < cutoff).Select(p => p.Key).ToList();
        var abandoned = S.Uploads.Where(u => u.Value.Created < clock.GetUtcNow() - options.Value.UploadLifetime).Select(u => u.Key).ToList();
        if (expired.Count == 0 && abandoned.Count == 0)
        {
            if (S.Garbage.Count > 0)
                await CollectGarbageAsync();
            return;
        }

        var all = (await AllStoresAsync()).Select(s => s.StoreId).ToList();
        foreach (var write in expired)
        {
            S.Pending.Remove(write);
            S.Garbage[write] = [.. all];
        }

        foreach (var upload in abandoned)
        {
            if (S.Uploads.Remove(upload, out var u))
                AddGarbage(u.Parts.Values.Select(p => p.Extent));
        }

        await _writes.WriteAsync();
        await CollectGarbageAsync();
    }

    /// <summary>Deletes writes that live stores hold and nothing refers to: the shards of a write whose writer or coordinator died before it was recorded anywhere else.</summary>
    private async Task SweepAsync()
    {
        var stores = (await AllStoresAsync()).Where(s => s.Alive).ToList();
        var referenced = new HashSet<Guid>(S.Pending.Keys);
        referenced.UnionWith(S.Files.Values.SelectMany(f => f.Extents.Select(e => e.Write)));
        referenced.UnionWith(S.Uploads.Values.SelectMany(u => u.Parts.Values.Select(p => p.Extent.Write)));
        referenced.UnionWith(S.Garbage.Keys);
        var found = new Dictionary<Guid, List<string>>();
        foreach (var store in stores)
        {
            try
            {
                foreach (var write in await ShardStores.Of(GrainFactory, store.StoreId).ListWritesAsync(Name))
                {
                    if (!referenced.Contains(write))
                        (found.TryGetValue(write, out var list) ? list : found[write] = []).Add(store.StoreId);
                }
            }
            catch (Exception e)
            {
                LogGarbageDeferred(logger, Name, Guid.Empty, store.StoreId, e.Message);
            }
        }

        if (found.Count == 0)
            return;
        foreach (var (write, holders) in found)
            S.Garbage[write] = holders;
        await _writes.WriteAsync();
        await CollectGarbageAsync();
    }

    private void CollectGarbageSoon() => _ = CollectGarbageAsync();

    private async Task CollectGarbageAsync()
    {
        var done = new List<Guid>();
        foreach (var (write, stores) in S.Garbage.ToList())
        {
            var results = await Task.WhenAll(stores.Select(async store =>
            {
                try
                {
                    await ShardStores.Of(GrainFactory, store).DeleteWriteAsync(Name, write);
                    return true;
                }
                catch (Exception e)
                {
                    LogGarbageDeferred(logger, Name, write, store, e.Message);
                    return false;
                }
            }));
            if (results.All(ok => ok))
                done.Add(write);
        }

        if (done.Count == 0)
            return;
        foreach (var write in done)
            S.Garbage.Remove(write);
        await _writes.WriteAsync();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Volume {Volume} created: {Layout}, encrypted {Encrypt}")]
    private static partial void LogCreated(ILogger logger, string volume, string layout, bool encrypt);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Volume {Volume}: shard {Write}/{Stripe}.{Shard} on {Store} is {Status}: {Detail}")]
    private static partial void LogDamage(ILogger logger, string volume, Guid write, int stripe, int shard, string store, ShardReadStatus status, string detail);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Volume {Volume}: shards of write {Write} on {Store} not deleted yet: {Reason}")]
    private static partial void LogGarbageDeferred(ILogger logger, string volume, Guid write, string store, string reason);
}
