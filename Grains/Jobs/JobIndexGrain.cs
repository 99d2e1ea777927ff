using Microsoft.Extensions.DependencyInjection;
using Orleans.Storage;
using PoolAI.Placement;
using PoolAI.Storage;

namespace PoolAI.Jobs;

/// <summary>A job index's persisted state (state name <c>jobindex</c>).</summary>
[GenerateSerializer, Alias("poolai.JobIndexState")]
public sealed class JobIndexState
{
    /// <summary>Entries by job, as indexes stored them before pages (<see cref="PageCount"/>); moved onto pages when the index activates.</summary>
    [Id(0)] public Dictionary<Guid, JobIndexEntry> Jobs { get; set; } = [];

    /// <summary>Page ids the entries may be stored on: records <c>jobindex-page-0</c> … <c>jobindex-page-(PageCount − 1)</c>
    /// of the same grain (see <see cref="PagedRecords{TEntry}"/>).</summary>
    [Id(1)] public int PageCount { get; set; }
}

/// <summary>
/// One requester's job index on a coordinator silo. Written at most once per <see cref="WriteInterval"/>, in pages of
/// entries (<see cref="PagedRecords{TEntry}"/>): a write stores the pages whose entries changed, so a requester with a
/// hundred thousand jobs does not rewrite them all every second. Keeps the newest <see cref="MaxJobs"/> jobs (older
/// final ones are dropped from the listing, not from the pool; up to a tenth more are held between prunings).
/// </summary>
[CoordinatorFilter]
public sealed class JobIndexGrain(
    [PersistentState("jobindex", PoolKeys.Storage)] IPersistentState<JobIndexState> state,
    IServiceProvider services) : Grain, IJobIndexGrain
{
    /// <summary>The state name of the pages of entries without the page number: <c>jobindex-page-0</c>, …</summary>
    public const string PagePrefix = "jobindex-page";

    /// <summary>Longest time between a report and its being written.</summary>
    public static readonly TimeSpan WriteInterval = TimeSpan.FromSeconds(1);

    /// <summary>Most jobs listed per requester.</summary>
    public const int MaxJobs = 100_000;

    private readonly SerializedWrites<JobIndexState> _writes = new(state);
    private Dictionary<Guid, JobIndexEntry> _jobs = [];
    private PagedRecords<JobIndexEntry> _records = null!;
    private bool _dirty;
    private bool _flushing;

    /// <inheritdoc />
    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _records = new PagedRecords<JobIndexEntry>(services.GetRequiredKeyedService<IGrainStorage>(PoolKeys.Storage), this.GetGrainId(), PagePrefix);
        foreach (var (page, entry) in await _records.ReadAsync(state.State.PageCount))
        {
            // Read from two pages (a crash between the writes that moved it): the newer report wins.
            if (_records.Pages.Load(page, entry.JobId) || entry.UpdatedAt > _jobs[entry.JobId].UpdatedAt)
                _jobs[entry.JobId] = entry;
        }

        foreach (var (jobId, entry) in state.State.Jobs)
        {
            if (_jobs.TryAdd(jobId, entry))
                _records.Pages.Add(jobId);
        }

        _dirty = state.State.Jobs.Count > 0;
        // Interleaved: reports keep arriving while a write is in flight (they are taken into the next one).
        this.RegisterGrainTimer(FlushAsync, new GrainTimerCreationOptions(WriteInterval, WriteInterval) { Interleave = true });
    }

    /// <inheritdoc />
    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken) => FlushOnDeactivateAsync();

    /// <inheritdoc />
    public Task RecordAsync(JobIndexEntry entry)
    {
        if (_jobs.TryGetValue(entry.JobId, out var known) && known.UpdatedAt > entry.UpdatedAt)
            return Task.CompletedTask; // a late report
        _jobs[entry.JobId] = entry;
        _records.Pages.Changed(entry.JobId);
        if (_jobs.Count > MaxJobs + MaxJobs / 10)
        {
            // Pruned in batches of a tenth, so the sort costs O(log n) per report, not O(n log n).
            foreach (var old in _jobs.Values.Where(j => j.Status.IsFinal()).OrderBy(j => j.CreatedAt).Take(_jobs.Count - MaxJobs).ToList())
            {
                _jobs.Remove(old.JobId);
                _records.Pages.Remove(old.JobId);
            }
        }

        _dirty = true;
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task<JobIndexPage> ListAsync(JobQuery query)
    {
        if (query.Limit is < 1 or > JobQuery.MaxLimit)
            throw new JobValidationException("limit", $"must be between 1 and {JobQuery.MaxLimit}, was {query.Limit}");
        var matches = _jobs.Values
            .Where(j => query.Status is null || j.Status == query.Status)
            .Where(j => query.Model is null || j.Model == query.Model)
            .Where(j => query.Kind is null || j.Kind == query.Kind)
            .Where(j => query.Before is not { } before || j.CreatedAt < before || (query.BeforeJob is { } last && j.CreatedAt == before && j.JobId.CompareTo(last) < 0))
            .OrderByDescending(j => j.CreatedAt).ThenByDescending(j => j.JobId)
            .Take(query.Limit + 1)
            .ToList();
        var more = matches.Count > query.Limit;
        var page = matches.Take(query.Limit).ToList();
        return Task.FromResult(more ? new JobIndexPage(page, page[^1].CreatedAt, page[^1].JobId) : new JobIndexPage(page, null));
    }

    private async Task FlushAsync()
    {
        if (!_dirty || _flushing)
            return;
        _flushing = true;
        try
        {
            _dirty = false;
            await WriteAsync();
        }
        catch
        {
            _dirty = true; // written at the next tick
            throw;
        }
        finally
        {
            _flushing = false;
        }
    }

    private async Task FlushOnDeactivateAsync()
    {
        if (!_dirty)
            return;
        _dirty = false;
        // A silo shutting down may have lost its storage first; the entries come back as the jobs next activate.
        await WriteAsync().ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing | ConfigureAwaitOptions.ContinueOnCapturedContext);
    }

    /// <summary>
    /// Stores the pages whose entries changed, taken before the first await (reports interleaving with the write change
    /// the live index, not what is written); first the index's own state when the page count grew (see
    /// <see cref="PagedRecords{TEntry}"/>) or entries stored before pages are still in it.
    /// </summary>
    private async Task WriteAsync()
    {
        var pages = _records.TakeChanges(jobId => _jobs.GetValueOrDefault(jobId));
        var stored = (state.State.PageCount, state.State.Jobs);
        if (stored.PageCount != _records.Pages.PageCount || stored.Jobs.Count > 0)
        {
            state.State.PageCount = _records.Pages.PageCount;
            state.State.Jobs = [];
            try
            {
                await _writes.WriteAsync();
            }
            catch
            {
                (state.State.PageCount, state.State.Jobs) = stored; // the next write tries again, count first
                pages.Abandon();
                throw;
            }
        }

        await pages.RunAsync();
    }
}
