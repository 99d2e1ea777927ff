using PoolAI.Jobs;

namespace PoolAI.Volumes;

/// <summary>
/// Empties one store of one volume's shards (see <see cref="IVolumeMaintenanceGrain.DrainAsync"/>): reconstruct or
/// copy each shard, place it on another store, record the move in the volume, then delete the store's copy. Every move
/// goes through <see cref="IVolumeGrain.ReplaceShardsAsync"/>, which applies it only while the stripe still has the
/// shard on the store, so a drain racing a rebuild, a scrub or a rewrite of the file never loses a shard: the loser's
/// new copy becomes garbage, and the store's copy is deleted only once the volume no longer refers to it.
/// </summary>
/// <param name="grains">The cluster.</param>
/// <param name="volume">The volume.</param>
/// <param name="parallelism">Shards moved at once.</param>
public sealed class StoreDrain(IGrainFactory grains, string volume, int parallelism)
{
    private const int MaxProblems = 100;
    private const int ReplaceBatch = 64;

    private IVolumeGrain Volume => grains.GetGrain<IVolumeGrain>(volume);

    /// <summary>The shards <paramref name="store"/> holds of the volume and whether they have somewhere else to go.</summary>
    public async Task<DrainPlan> PlanAsync(string store)
    {
        VolumeView view;
        try
        {
            view = await Volume.DescribeAsync();
        }
        catch (VolumeNotFoundException)
        {
            return new DrainPlan(volume, VolumeLayout.Default, 0, 0, null);
        }

        var stores = await grains.GetGrain<IStoreDirectoryGrain>(IStoreDirectoryGrain.Default).GetStoresAsync();
        var held = Held(await Volume.GetStripesAsync(), store);
        var bytes = held.Sum(h => StoredBytes(h.Ref.Stripe, h.Index));
        var shortfall = DrainRules.Shortfall(volume, view.Layout, store, [.. held.Select(h => h.Ref.Stripe)], StripePlacement.Targets(stores, except: store));
        return new DrainPlan(volume, view.Layout, held.Count, bytes, shortfall);
    }

    /// <summary>Moves up to <paramref name="maxShards"/> of the shards <paramref name="store"/> holds of the volume; see <see cref="IVolumeMaintenanceGrain.DrainAsync"/>.</summary>
    /// <exception cref="JobValidationException">Field <c>max_shards</c>: not 1 to <see cref="DrainStep.MaxShardsPerStep"/>.</exception>
    public async Task<DrainStep> StepAsync(string store, int maxShards)
    {
        if (maxShards is < 1 or > DrainStep.MaxShardsPerStep)
            throw new JobValidationException("max_shards", $"must be 1 to {DrainStep.MaxShardsPerStep} (got {maxShards})");
        VolumeView view;
        try
        {
            view = await Volume.DescribeAsync();
        }
        catch (VolumeNotFoundException)
        {
            return new DrainStep(0, 0, 0, 0, 0, 0, 0, []);
        }

        var key = await Volume.GetDataKeyAsync();
        var stores = (await grains.GetGrain<IStoreDirectoryGrain>(IStoreDirectoryGrain.Default).GetStoresAsync()).ToDictionary(s => s.StoreId, StringComparer.Ordinal);
        var targets = StripePlacement.Targets(stores.Values, except: store);
        var io = new StripeIo(grains, volume, view.Layout, key);
        var problems = new List<string>();
        var moves = new List<Move>();
        var batch = Held(await Volume.GetStripesAsync(), store).Take(maxShards).ToList();
        await Parallel.ForEachAsync(batch, new ParallelOptions { MaxDegreeOfParallelism = parallelism }, async (held, _) =>
        {
            var move = await MoveAsync(io, view, store, held.Ref, held.Index, stores, targets, problems);
            if (move is not null)
            {
                lock (moves)
                    moves.Add(move);
            }
        });

        foreach (var chunk in moves.Chunk(ReplaceBatch))
            await Volume.ReplaceShardsAsync([.. chunk.Select(m => m.Replacement)]);

        // Only copies the volume no longer refers to are deleted: a move that lost a race leaves the store's copy in use.
        var after = await Volume.GetStripesAsync();
        var still = Held(after, store).Select(h => (h.Ref.Write, h.Ref.Stripe.Index, h.Index)).ToHashSet();
        var applied = moves.Where(m => !still.Contains((m.Replacement.Write, m.Replacement.Stripe, m.Replacement.Shard))).ToList();
        await DeleteAsync(store, [.. applied.Select(m => ShardIds.Of(volume, m.Replacement.Write, m.Replacement.Stripe, m.Replacement.Shard))], problems);
        var pending = await Volume.GetPendingWritesAsync();
        var waiting = pending.Count(p => p.Stores is null || p.Stores.Contains(store, StringComparer.Ordinal));
        var cleared = still.Count == 0 && waiting == 0 ? await ClearGarbageAsync(store, pending, problems) : 0;
        return new DrainStep(
            applied.Count, applied.Count(m => m.Copied), applied.Count(m => !m.Copied), applied.Sum(m => (long)m.Bytes),
            still.Count, waiting, cleared, [.. problems.Take(MaxProblems)]);
    }

    /// <summary>Every shard of <paramref name="stripes"/> that sits on <paramref name="store"/>, with its index in its stripe.</summary>
    private static List<(StripeRef Ref, int Index)> Held(IEnumerable<StripeRef> stripes, string store) =>
        [.. stripes.SelectMany(s => s.Stripe.Shards.Select((h, i) => (Ref: s, Index: i, h.Store))).Where(x => x.Store == store).Select(x => (x.Ref, x.Index))];

    private static long StoredBytes(StripeRecord stripe, int index) =>
        stripe.ShardBytes + (stripe.Shards[index].Encrypted ? ShardCrypto.OverheadBytes : 0);

    private static void Problem(List<string> problems, string problem)
    {
        lock (problems)
            problems.Add(problem);
    }

    /// <summary>Reads (or rebuilds) one shard and writes it to another store; null, with the problem noted, when it cannot.</summary>
    private static async Task<Move?> MoveAsync(
        StripeIo io, VolumeView view, string store, StripeRef stripe, int index,
        IReadOnlyDictionary<string, StoreView> stores, List<StoreRegistration> targets, List<string> problems)
    {
        var where = $"{stripe.Path}: stripe {stripe.Stripe.Index} shard {index}";
        Func<string, bool> alive = s => !stores.TryGetValue(s, out var v) || v.Alive;
        var damage = new List<ShardDamage>();
        var plaintext = await io.FetchShardAsync(stripe.Write, stripe.Stripe, index, damage, alive);
        var copied = plaintext is not null;
        if (plaintext is null)
        {
            // The store's copy is missing or fails its checksum: rebuild it from the others, never asking the store again.
            var recovered = await io.RecoverAsync(stripe.Write, stripe.Stripe, [index], damage, s => s != store && alive(s));
            plaintext = recovered?[index];
        }

        if (plaintext is null)
        {
            Problem(problems, $"{where} on {store}: not readable there and fewer than {view.Layout.DataShards} good shards elsewhere to rebuild it ({string.Join("; ", damage.Select(d => $"{d.Store}: {d.Detail}"))})");
            return null;
        }

        var holders = stripe.Stripe.Shards.Select(s => s.Store).ToHashSet(StringComparer.Ordinal);
        // The store being emptied is leaving: its host does not count as used.
        var domains = holders.Where(h => h != store && stores.ContainsKey(h)).Select(h => StripePlacement.DomainOf(stores[h].Registration)).ToList();
        var target = StripePlacement.Choose(targets, stripe.Stripe.Index + index, 1, holders, domains).FirstOrDefault();
        if (target is null)
        {
            Problem(problems, $"{where}: no store that takes shards is left that holds no other shard of the stripe");
            return null;
        }

        try
        {
            var record = await io.PutShardAsync(target, stripe.Write, stripe.Stripe.Index, index, plaintext, view.Encrypt);
            return new Move(new ShardReplacement(stripe.Write, stripe.Stripe.Index, index, store, record), copied, stripe.Stripe.ShardBytes);
        }
        catch (Exception e)
        {
            Problem(problems, $"{where}: writing it to {target.StoreId} failed: {e.Message}");
            return null;
        }
    }

    private async Task DeleteAsync(string store, IReadOnlyList<string> shards, List<string> problems)
    {
        if (shards.Count == 0)
            return;
        try
        {
            await ShardStores.Of(grains, store).DeleteShardsAsync(shards);
        }
        catch (Exception e)
        {
            // The volume no longer refers to them: they are garbage the next sweep deletes.
            Problem(problems, $"deleting {shards.Count} moved shards from {store} failed: {e.Message}");
        }
    }

    /// <summary>
    /// Once no stripe refers to the store, every shard file of the volume left on it is unreferenced (copies a rebuild
    /// moved away, replaced or deleted files whose garbage is not collected yet): deletes the store's writes of the
    /// volume but those still open.
    /// </summary>
    private async Task<int> ClearGarbageAsync(string store, IReadOnlyList<PendingWriteRef> pending, List<string> problems)
    {
        var live = pending.Select(p => p.Write).ToHashSet();
        try
        {
            var owner = ShardStores.Of(grains, store);
            var cleared = 0;
            foreach (var write in (await owner.ListWritesAsync(volume)).Where(w => !live.Contains(w)))
                cleared += await owner.DeleteWriteAsync(volume, write);
            return cleared;
        }
        catch (Exception e)
        {
            Problem(problems, $"deleting unreferenced writes from {store} failed: {e.Message}");
            return 0;
        }
    }

    /// <summary>A shard written elsewhere, not yet recorded.</summary>
    private sealed record Move(ShardReplacement Replacement, bool Copied, int Bytes);
}
