using PoolAI.Placement;
using PoolAI.Storage;

namespace PoolAI.Jobs;

/// <summary>A job index's persisted state (state name <c>jobindex</c>).</summary>
[GenerateSerializer, Alias("poolai.JobIndexState")]
public sealed class JobIndexState
{
    /// <summary>Entries by job.</summary>
    [Id(0)] public Dictionary<Guid, JobIndexEntry> Jobs { get; set; } = [];
}

/// <summary>
/// One requester's job index on a coordinator silo. Written at most once per <see cref="WriteInterval"/>; keeps the
/// newest <see cref="MaxJobs"/> jobs (older final ones are dropped from the listing, not from the pool; up to a tenth
/// more are held between prunings).
/// </summary>
[CoordinatorFilter]
public sealed class JobIndexGrain(
    [PersistentState("jobindex", PoolKeys.Storage)] IPersistentState<JobIndexState> state) : Grain, IJobIndexGrain
{
    /// <summary>Longest time between a report and its being written.</summary>
    public static readonly TimeSpan WriteInterval = TimeSpan.FromSeconds(1);

    /// <summary>Most jobs listed per requester.</summary>
    public const int MaxJobs = 100_000;

    private readonly SerializedWrites<JobIndexState> _writes = new(state);
    private Dictionary<Guid, JobIndexEntry> _jobs = [];
    private bool _dirty;
    private bool _flushing;

    /// <inheritdoc />
    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _jobs = state.State.Jobs;
        // Interleaved: reports keep arriving while a write is in flight (they are taken into the next one).
        this.RegisterGrainTimer(FlushAsync, new GrainTimerCreationOptions(WriteInterval, WriteInterval) { Interleave = true });
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken) => FlushOnDeactivateAsync();

    /// <inheritdoc />
    public Task RecordAsync(JobIndexEntry entry)
    {
        if (_jobs.TryGetValue(entry.JobId, out var known) && known.UpdatedAt > entry.UpdatedAt)
            return Task.CompletedTask; // a late report
        _jobs[entry.JobId] = entry;
        if (_jobs.Count > MaxJobs + MaxJobs / 10)
        {
            // Pruned in batches of a tenth, so the sort costs O(log n) per report, not O(n log n).
            foreach (var old in _jobs.Values.Where(j => j.Status.IsFinal()).OrderBy(j => j.CreatedAt).Take(_jobs.Count - MaxJobs).ToList())
                _jobs.Remove(old.JobId);
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
            .Where(j => query.Before is null || j.CreatedAt < query.Before)
            .OrderByDescending(j => j.CreatedAt).ThenByDescending(j => j.JobId)
            .Take(query.Limit + 1)
            .ToList();
        var more = matches.Count > query.Limit;
        var page = matches.Take(query.Limit).ToList();
        return Task.FromResult(new JobIndexPage(page, more ? page[^1].CreatedAt : null));
    }

    private async Task FlushAsync()
    {
        if (!_dirty || _flushing)
            return;
        _flushing = true;
        try
        {
            _dirty = false;
            state.State.Jobs = new(_jobs); // reports interleaving with the write change the live index, not what is written
            await _writes.WriteAsync();
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
        state.State.Jobs = new(_jobs);
        // A silo shutting down may have lost its storage first; the entries come back as the jobs next activate.
        await _writes.WriteAsync().ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing | ConfigureAwaitOptions.ContinueOnCapturedContext);
    }
}
