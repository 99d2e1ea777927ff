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
/// newest <see cref="MaxJobs"/> jobs (older final ones are dropped from the listing, not from the pool).
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
    private bool _dirty;

    /// <inheritdoc />
    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        this.RegisterGrainTimer(FlushAsync, WriteInterval, WriteInterval);
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken) => FlushAsync();

    /// <inheritdoc />
    public Task RecordAsync(JobIndexEntry entry)
    {
        if (state.State.Jobs.TryGetValue(entry.JobId, out var known) && known.UpdatedAt > entry.UpdatedAt)
            return Task.CompletedTask; // a late report
        state.State.Jobs[entry.JobId] = entry;
        if (state.State.Jobs.Count > MaxJobs)
        {
            foreach (var old in state.State.Jobs.Values.Where(j => j.Status.IsFinal()).OrderBy(j => j.CreatedAt).Take(state.State.Jobs.Count - MaxJobs).ToList())
                state.State.Jobs.Remove(old.JobId);
        }

        _dirty = true;
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task<JobIndexPage> ListAsync(JobQuery query)
    {
        if (query.Limit is < 1 or > JobQuery.MaxLimit)
            throw new JobValidationException("limit", $"must be between 1 and {JobQuery.MaxLimit}, was {query.Limit}");
        var matches = state.State.Jobs.Values
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
        if (!_dirty)
            return;
        _dirty = false;
        await _writes.WriteAsync();
    }
}
