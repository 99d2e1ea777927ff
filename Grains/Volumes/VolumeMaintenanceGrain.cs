using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Concurrency;
using PoolAI.Placement;
using PoolAI.Rewards;

namespace PoolAI.Volumes;

/// <summary>
/// Rebuild, scrub and audits of one volume (see <see cref="IVolumeMaintenanceGrain"/>). The work runs off the grain's
/// turn (stripes in parallel on the thread pool) and reports back through the volume grain, which applies each moved
/// shard only if the stripe still has it where the work found it. Reentrant so that progress can be read while it runs.
/// </summary>
[CoordinatorFilter]
[Reentrant]
public sealed partial class VolumeMaintenanceGrain(IGrainFactory grains, IOptions<VolumeOptions> options, TimeProvider clock, VolumeKeyring keyring, ILogger<VolumeMaintenanceGrain> logger) : Grain, IVolumeMaintenanceGrain
{
    private const int MaxProblems = 100;
    private readonly Dictionary<(Guid, int, int), ShardDamage> _damage = [];
    private readonly HashSet<(Guid, int, int)> _moveAway = [];
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, DateTimeOffset> _unknownSince = new(StringComparer.Ordinal);
    private Run? _repair;
    private Run? _scrub;
    private Task? _repairTask;
    private Task? _scrubTask;
    private Task<AuditRound>? _auditTask;
    private DateTimeOffset _lastScrub;
    private long _lastAuditPeriod = -1;
    private string? _name;
    private int _liveAtLastRepair;

    // Read off the grain's turn too (the work runs on the thread pool), so fixed at construction rather than read from the activation.
    private string Name => _name ??= this.GetPrimaryKeyString();

    private VolumeOptions Options => options.Value;

    /// <inheritdoc />
    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _ = Name;
        _lastScrub = clock.GetUtcNow();
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public async Task CheckAsync()
    {
        var (volume, stores) = await SnapshotAsync();
        if (volume is null)
            return;
        var now = clock.GetUtcNow();
        var stripes = await Volume.GetStripesAsync();
        // After a rebuild that could not place everything (too few live stores), wait before trying again.
        var live = stores.Values.Count(s => s.Alive);
        if (_repairTask is null && (_repair is null || !_repair.Fruitless || live > _liveAtLastRepair || now - _repair.FinishedAt >= TimeSpan.FromSeconds(30))
            && stripes.Any(s => s.Stripe.Shards.Any(h => IsDead(stores, h.Store, now))))
            StartRepair();
        if (_scrubTask is null && Options.ScrubInterval > TimeSpan.Zero && now - _lastScrub >= Options.ScrubInterval)
            StartScrub();
        if (Options.AuditPeriod > TimeSpan.Zero && _auditTask is null && PeriodOf(now) != _lastAuditPeriod && stripes.Count > 0)
        {
            _auditTask = Task.Run(AuditRoundAsync);
            _ = _auditTask.ContinueWith(_ => _auditTask = null, TaskScheduler.Current);
        }
    }

    /// <inheritdoc />
    public Task RepairAsync(IReadOnlyList<ShardDamage> damage)
    {
        lock (_damage)
        {
            foreach (var d in damage)
                _damage[(d.Write, d.Stripe, d.Shard)] = d;
        }

        if (_repairTask is null)
            StartRepair();
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task ScrubAsync()
    {
        if (_scrubTask is null)
            StartScrub();
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public async Task<AuditRound> AuditAsync()
    {
        while (_auditTask is { } running)
            await ((Task)running).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing | ConfigureAwaitOptions.ContinueOnCapturedContext);
        _lastAuditPeriod = -1; // an explicit round pays its period even if a scheduled one already looked
        return await Task.Run(AuditRoundAsync);
    }

    /// <inheritdoc />
    public Task<(MaintenanceProgress? Repair, MaintenanceProgress? Scrub)> GetProgressAsync() =>
        Task.FromResult((_repair?.View(clock.GetUtcNow()), _scrub?.View(clock.GetUtcNow())));

    private IVolumeGrain Volume => grains.GetGrain<IVolumeGrain>(Name);

    /// <summary>The audit period; an hour when scheduled audits are off (<c>AuditPeriod</c> 0) and a round is asked for.</summary>
    private TimeSpan Period => Options.AuditPeriod > TimeSpan.Zero ? Options.AuditPeriod : TimeSpan.FromHours(1);

    private long PeriodOf(DateTimeOffset time) => time.UtcTicks / Period.Ticks;

    /// <summary>
    /// True when <paramref name="store"/> is dead for longer than the rebuild delay. A store that holds shards but that
    /// the directory does not know (its stored state was lost) counts as dead once it has stayed unknown for
    /// <see cref="Stores.StoreDirectoryGrain.StaleAfter"/>: every live store announces itself well within that.
    /// </summary>
    private bool IsDead(IReadOnlyDictionary<string, StoreView> stores, string store, DateTimeOffset now)
    {
        if (store.Length == 0)
            return true; // a shard a write under its quorum could not place: no store holds it
        if (stores.TryGetValue(store, out var view))
        {
            _unknownSince.TryRemove(store, out _);
            return !view.Alive && view.DeadSince is { } since && now - since >= Options.RebuildDelay;
        }

        var unknown = _unknownSince.GetOrAdd(store, now);
        return now - unknown >= Stores.StoreDirectoryGrain.StaleAfter + Options.RebuildDelay;
    }

    private async Task<(VolumeView? Volume, IReadOnlyDictionary<string, StoreView> Stores)> SnapshotAsync()
    {
        VolumeView view;
        try
        {
            view = await Volume.DescribeAsync();
        }
        catch (VolumeNotFoundException)
        {
            return (null, new Dictionary<string, StoreView>());
        }

        var stores = await grains.GetGrain<IStoreDirectoryGrain>(IStoreDirectoryGrain.Default).GetStoresAsync();
        return (view, stores.ToDictionary(s => s.StoreId, StringComparer.Ordinal));
    }

    private void StartRepair()
    {
        DelayDeactivation(TimeSpan.FromHours(1));
        _repairTask = Task.Run(() => RunAsync(scrub: false));
        _ = _repairTask.ContinueWith(_ => _repairTask = null, TaskScheduler.Current);
    }

    private void StartScrub()
    {
        DelayDeactivation(TimeSpan.FromHours(1));
        _lastScrub = clock.GetUtcNow();
        _scrubTask = Task.Run(() => RunAsync(scrub: true));
        _ = _scrubTask.ContinueWith(_ => _scrubTask = null, TaskScheduler.Current);
    }

    /// <summary>
    /// One rebuild (stripes with shards on dead stores or reported damaged) or one scrub (every stripe, every shard read
    /// and checked); a rebuild repeats until nothing is left that it can fix. A rebuild that starts while the last one
    /// ended with work left (too few live stores, a store joining midway) continues its progress — same start, totals
    /// added, <see cref="MaintenanceProgress.Runs"/> counted — so status shows the whole way back to full redundancy.
    /// </summary>
    private async Task RunAsync(bool scrub)
    {
        var run = scrub ? new Run(clock.GetUtcNow()) : _repair is { Complete: false } unfinished ? unfinished.Resume(clock.GetUtcNow()) : new Run(clock.GetUtcNow());
        if (scrub)
            _scrub = run;
        else
            _repair = run;
        try
        {
            for (var pass = 0; pass < 3; pass++)
            {
                var volume = await Volume.DescribeAsync();
                var key = await Volume.GetDataKeyAsync();
                var stores = (await grains.GetGrain<IStoreDirectoryGrain>(IStoreDirectoryGrain.Default).GetStoresAsync()).ToDictionary(s => s.StoreId, StringComparer.Ordinal);
                var now = clock.GetUtcNow();
                var stripes = await Volume.GetStripesAsync();
                Dictionary<(Guid, int, int), ShardDamage> reported;
                lock (_damage)
                {
                    reported = new(_damage);
                    _damage.Clear();
                }

                var work = stripes
                    .Select(s => (Ref: s, Missing: scrub
                        ? Enumerable.Range(0, s.Stripe.Shards.Count).ToList()
                        : Enumerable.Range(0, s.Stripe.Shards.Count).Where(i => IsDead(stores, s.Stripe.Shards[i].Store, now) || reported.ContainsKey((s.Write, s.Stripe.Index, i))).ToList()))
                    .Where(w => w.Missing.Count > 0)
                    .ToList();
                if (work.Count == 0)
                {
                    run.Completed();
                    break;
                }

                run.Add(work.Count);
                // Shards move over the stores' shard transport where they have one (a token of its own, for this pass).
                var io = new StripeIo(grains, Name, volume.Layout, key)
                {
                    DataToken = ShardTokens.Issue(keyring.ShardTransportKey, Name, write: true, now + TimeSpan.FromHours(6)),
                    Endpoints = store => stores.TryGetValue(store, out var view) ? view.Registration.DataEndpoint : null,
                };
                // Where rebuilt shards may go: a draining store is read from but never written to.
                var live = StripePlacement.Targets(stores.Values);
                if (!scrub)
                    _liveAtLastRepair = live.Count;
                var replacements = new List<ShardReplacement>();
                await Parallel.ForEachAsync(work, new ParallelOptions { MaxDegreeOfParallelism = Options.RebuildParallelism }, async (item, _) =>
                {
                    var moved = await RepairStripeAsync(io, volume, item.Ref, item.Missing, scrub, stores, live, run);
                    List<ShardReplacement>? batch = null;
                    lock (replacements)
                    {
                        replacements.AddRange(moved);
                        if (replacements.Count >= 32)
                        {
                            batch = [.. replacements];
                            replacements.Clear();
                        }
                    }

                    if (batch is not null)
                        await Volume.ReplaceShardsAsync(batch);
                    run.StripeDone();
                });
                if (replacements.Count > 0)
                    await Volume.ReplaceShardsAsync(replacements);
                if (scrub)
                {
                    run.Completed();
                    break;
                }
            }
        }
        catch (Exception e)
        {
            run.Problem($"stopped: {e.GetType().Name}: {e.Message}");
            LogStopped(logger, Name, scrub ? "scrub" : "rebuild", e);
        }
        finally
        {
            run.Finish(clock.GetUtcNow());
            LogFinished(logger, Name, scrub ? "scrub" : "rebuild", run.View(clock.GetUtcNow()).StripesDone, run.View(clock.GetUtcNow()).ShardsRewritten);
        }
    }

    private async Task<List<ShardReplacement>> RepairStripeAsync(StripeIo io, VolumeView volume, StripeRef stripe, List<int> suspects, bool scrub, IReadOnlyDictionary<string, StoreView> stores, List<StoreRegistration> live, Run run)
    {
        var damage = new List<ShardDamage>();
        Func<string, bool> alive = s => s.Length > 0 && (!stores.TryGetValue(s, out var v) || v.Alive);
        // A scrub reads every shard and rebuilds only those that fail; a rebuild reconstructs exactly the suspects.
        var shards = await io.RecoverAsync(stripe.Write, stripe.Stripe, suspects, damage, alive);
        var rewrite = scrub ? damage.Select(d => d.Shard).Distinct().ToList() : suspects;
        foreach (var d in damage.Where(d => scrub || !suspects.Contains(d.Shard)))
            run.Problem($"{stripe.Path}: stripe {stripe.Stripe.Index} shard {d.Shard} on {d.Store}: {d.Status.ToString().ToLowerInvariant()} ({d.Detail})");
        if (shards is null)
        {
            run.Problem($"{stripe.Path}: stripe {stripe.Stripe.Index} of write {stripe.Write:N} has fewer than {volume.Layout.DataShards} good shards and cannot be rebuilt");
            return [];
        }

        var moved = new List<ShardReplacement>();
        var holders = stripe.Stripe.Shards.Select(s => s.Store).ToHashSet(StringComparer.Ordinal);
        foreach (var index in rewrite)
        {
            var old = stripe.Stripe.Shards[index];
            var key = (stripe.Write, stripe.Stripe.Index, index);
            bool away;
            lock (_moveAway)
                away = _moveAway.Remove(key);
            // A live store with a bad copy gets it rewritten in place; a dead or draining one, or one that failed an audit, loses it.
            var target = alive(old.Store) && !away && stores.TryGetValue(old.Store, out var same) && same.TakesShards
                ? same.Registration
                : StripePlacement.Choose(live, stripe.Stripe.Index + index, 1, holders, holders.Where(h => stores.ContainsKey(h)).Select(h => StripePlacement.DomainOf(stores[h].Registration)).ToList()).FirstOrDefault();
            if (target is null && away && alive(old.Store) && stores.TryGetValue(old.Store, out var same2) && same2.TakesShards)
            {
                // Nowhere else to put it: rewrite the good bytes where they were; the next audit checks that store again.
                run.Problem($"{stripe.Path}: stripe {stripe.Stripe.Index} shard {index}: rewritten on {old.Store}, no other live store holds no shard of the stripe");
                target = same2.Registration;
            }

            if (target is null)
            {
                run.Problem($"{stripe.Path}: stripe {stripe.Stripe.Index} shard {index}: no live store left that holds no other shard of the stripe");
                continue;
            }

            try
            {
                var record = await io.PutShardAsync(target, stripe.Write, stripe.Stripe.Index, index, shards[index]!, volume.Encrypt);
                lock (holders)
                    holders.Add(target.StoreId);
                moved.Add(new ShardReplacement(stripe.Write, stripe.Stripe.Index, index, old.Store, record));
                run.Rewrote(stripe.Stripe.ShardBytes);
            }
            catch (Exception e)
            {
                run.Problem($"{stripe.Path}: stripe {stripe.Stripe.Index} shard {index}: writing it to {target.StoreId} failed: {e.Message}");
            }
        }

        run.Read((long)stripe.Stripe.ShardBytes * volume.Layout.DataShards);
        return moved;
    }

    /// <summary>
    /// Challenges every live store holding shards of this volume once with a prepared ticket (a random range of a random
    /// shard, a fresh nonce). A right answer within <see cref="VolumeOptions.AuditTimeout"/> pays the store the byte-hours
    /// it held this period (once per period); a wrong, missing or late one pays nothing, adds a suspicion to its ledger,
    /// and moves the challenged shard to another store.
    /// </summary>
    private async Task<AuditRound> AuditRoundAsync()
    {
        var now = clock.GetUtcNow();
        var period = PeriodOf(now);
        var stripes = await Volume.GetStripesAsync();
        var stores = (await grains.GetGrain<IStoreDirectoryGrain>(IStoreDirectoryGrain.Default).GetStoresAsync()).Where(s => s.Alive).ToDictionary(s => s.StoreId, StringComparer.Ordinal);
        var held = stripes.SelectMany(s => s.Stripe.Shards.Select((h, i) => (Ref: s, Index: i, Shard: h)))
            .Where(x => stores.ContainsKey(x.Shard.Store))
            .GroupBy(x => x.Shard.Store, StringComparer.Ordinal)
            .ToList();
        var passed = new List<string>();
        var failed = new Dictionary<string, string>(StringComparer.Ordinal);
        var paid = new Dictionary<string, double>(StringComparer.Ordinal);
        var damage = new List<ShardDamage>();
        foreach (var group in held)
        {
            var store = group.Key;
            var shards = group.ToList();
            var (outcome, challenged) = await ChallengeAsync(store, shards.OrderBy(_ => RandomNumberGenerator.GetInt32(int.MaxValue)).Take(8).Select(x => (x.Ref, x.Index)).ToList());
            if (outcome is null)
            {
                passed.Add(store);
                var bytes = shards.Sum(x => (double)x.Ref.Stripe.ShardBytes + (x.Shard.Encrypted ? ShardCrypto.OverheadBytes : 0));
                var byteHours = bytes * Period.TotalHours;
                if (byteHours > 0 && period != _lastAuditPeriod)
                {
                    var id = PeriodId(store, period);
                    await grains.GetGrain<IRewardLedgerGrain>(Stores.ShardStoreSet.WorkerOf(store)).CreditStorageAsync(new StorageCredit(id, Name, byteHours, Options.CreditsPerGbHour, now));
                    paid[store] = byteHours;
                }
            }
            else
            {
                failed[store] = outcome;
                LogAuditFailed(logger, Name, store, outcome);
                await grains.GetGrain<IRewardLedgerGrain>(Stores.ShardStoreSet.WorkerOf(store)).RecordSuspicionAsync(Guid.Empty, $"storage audit of volume {Name} failed: {outcome}");
                if (challenged is { } c)
                {
                    lock (_moveAway)
                        _moveAway.Add((c.Ref.Write, c.Ref.Stripe.Index, c.Index));
                    damage.Add(new ShardDamage(c.Ref.Write, c.Ref.Stripe.Index, c.Index, store, ShardReadStatus.Corrupt, "failed a storage audit"));
                }
            }
        }

        _lastAuditPeriod = period;
        if (damage.Count > 0)
            await grains.GetGrain<IVolumeMaintenanceGrain>(Name).RepairAsync(damage);
        return new AuditRound(passed, failed, paid);
    }

    /// <summary>Null when the store answered right, else why not, with the shard challenged.</summary>
    private async Task<(string? Failure, (StripeRef Ref, int Index)? Challenged)> ChallengeAsync(string store, List<(StripeRef Ref, int Index)> candidates)
    {
        foreach (var (stripe, index) in candidates)
        {
            var ticket = await Volume.TakeAuditTicketAsync(stripe.Write, stripe.Stripe.Index, index);
            if (ticket is null)
                continue; // this shard's tickets are used up; the next scrub re-reads it whole
            var id = ShardIds.Of(Name, stripe.Write, stripe.Stripe.Index, index);
            try
            {
                var answer = await ShardStores.Of(grains, store).AuditShardAsync(id, ticket.Nonce, ticket.Offset, ticket.Count).WaitAsync(Options.AuditTimeout);
                if (answer.Status != ShardReadStatus.Ok)
                    return ($"shard {id}: {answer.Status.ToString().ToLowerInvariant()} ({answer.Detail})", (stripe, index));
                return CryptographicOperations.FixedTimeEquals(answer.Data, ticket.Answer)
                    ? (null, null)
                    : ($"shard {id}: wrong answer for bytes {ticket.Offset}–{ticket.Offset + ticket.Count - 1}", (stripe, index));
            }
            catch (TimeoutException)
            {
                return ($"shard {id}: no answer within {Options.AuditTimeout.TotalSeconds:0.#} s", (stripe, index));
            }
            catch (Exception e)
            {
                return ($"shard {id}: {e.GetType().Name}: {e.Message}", (stripe, index));
            }
        }

        return (null, null); // nothing left to challenge this period
    }

    private Guid PeriodId(string store, long period) =>
        new(MD5.HashData(Encoding.UTF8.GetBytes($"storage/{Name}/{store}/{period}")));

    [LoggerMessage(Level = LogLevel.Information, Message = "Volume {Volume}: {Work} finished: {Stripes} stripes visited, {Shards} shards rewritten")]
    private static partial void LogFinished(ILogger logger, string volume, string work, long stripes, long shards);

    [LoggerMessage(Level = LogLevel.Error, Message = "Volume {Volume}: {Work} stopped")]
    private static partial void LogStopped(ILogger logger, string volume, string work, Exception error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Volume {Volume}: store {Store} failed its storage audit: {Reason}")]
    private static partial void LogAuditFailed(ILogger logger, string volume, string store, string reason);

    /// <summary>Progress of one rebuild or scrub (a rebuild in one run or several), updated from many threads.</summary>
    private sealed class Run(DateTimeOffset started)
    {
        private readonly List<string> _problems = [];
        private long _total;
        private long _done;
        private long _rewritten;
        private long _bytes;
        private int _runs = 1;
        private long _rewrittenBefore; // by the earlier runs it continues
        private TimeSpan _activeBefore; // time the earlier runs spent working
        private readonly DateTimeOffset _started = started;
        private DateTimeOffset _runStarted = started;
        private volatile bool _complete;
        private DateTimeOffset? _finished;

        /// <summary>True when its last pass found nothing left to do (false while running, and after a run that ended with work left).</summary>
        public bool Complete => _complete;

        public void Completed() => _complete = true;

        /// <summary>
        /// Continues this progress in another run: running again, same start, shards rewritten and bytes kept; the stripes
        /// to visit are the new run's (those the earlier runs could not finish are visited again).
        /// </summary>
        public Run Resume(DateTimeOffset now)
        {
            Interlocked.Increment(ref _runs);
            _rewrittenBefore = Interlocked.Read(ref _rewritten);
            _activeBefore += (_finished ?? now) - _runStarted;
            _runStarted = now;
            Interlocked.Exchange(ref _total, 0);
            Interlocked.Exchange(ref _done, 0);
            lock (_problems)
                _problems.Clear(); // the new run finds what is still wrong
            _finished = null;
            return this;
        }

        public void Add(long stripes) => Interlocked.Add(ref _total, stripes);

        public void StripeDone() => Interlocked.Increment(ref _done);

        public void Read(long bytes) => Interlocked.Add(ref _bytes, bytes);

        public void Rewrote(long bytes)
        {
            Interlocked.Increment(ref _rewritten);
            Interlocked.Add(ref _bytes, bytes);
        }

        public void Problem(string problem)
        {
            lock (_problems)
            {
                if (_problems.Count < MaxProblems)
                    _problems.Add(problem);
            }
        }

        public void Finish(DateTimeOffset at) => _finished = at;

        /// <summary>Its last run finished having rewritten nothing while it had work.</summary>
        public bool Fruitless => _finished is not null && Interlocked.Read(ref _rewritten) == _rewrittenBefore && Interlocked.Read(ref _total) > 0;

        public DateTimeOffset FinishedAt => _finished ?? DateTimeOffset.MaxValue;

        public MaintenanceProgress View(DateTimeOffset now)
        {
            // Rate over the time its runs spent working (not the waits between them); ETA from the current run's pace.
            var end = _finished ?? now;
            var running = Math.Max((end - _runStarted).TotalSeconds, 1e-3);
            var rate = Interlocked.Read(ref _bytes) / Math.Max(_activeBefore.TotalSeconds + running, 1e-3);
            var done = Interlocked.Read(ref _done);
            var total = Interlocked.Read(ref _total);
            DateTimeOffset? eta = _finished is null && done > 0 && total > done ? now + TimeSpan.FromSeconds(running * (total - done) / done) : null;
            lock (_problems)
                return new MaintenanceProgress(_finished is null, total, done, Interlocked.Read(ref _rewritten), Interlocked.Read(ref _bytes), _started, _finished, rate, eta, [.. _problems], Volatile.Read(ref _runs), _finished is not null && !_complete);
        }
    }
}
