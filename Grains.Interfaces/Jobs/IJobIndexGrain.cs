namespace PoolAI.Jobs;

/// <summary>One job as the index lists it.</summary>
/// <param name="JobId">The job.</param>
/// <param name="Kind">What it does.</param>
/// <param name="Model">Its model.</param>
/// <param name="Status">Its status when last reported.</param>
/// <param name="CreatedAt">When it was accepted.</param>
/// <param name="UpdatedAt">When its status last changed.</param>
[GenerateSerializer, Immutable, Alias("poolai.JobIndexEntry")]
public sealed record JobIndexEntry(
    [property: Id(0)] Guid JobId,
    [property: Id(1)] JobKind Kind,
    [property: Id(2)] string Model,
    [property: Id(3)] JobStatus Status,
    [property: Id(4)] DateTimeOffset CreatedAt,
    [property: Id(5)] DateTimeOffset UpdatedAt);

/// <summary>Filters and paging of a job listing.</summary>
/// <param name="Status">Only jobs with this status; null for all.</param>
/// <param name="Model">Only jobs of this model; null for all.</param>
/// <param name="Kind">Only jobs of this kind; null for all.</param>
/// <param name="Before">Only jobs created before this time (the previous page's <c>NextBefore</c>); null for the newest.</param>
/// <param name="Limit">Page size, 1–100.</param>
/// <param name="BeforeJob">
/// With <paramref name="Before"/>, the previous page's <c>NextBeforeJob</c>: jobs created at exactly
/// <paramref name="Before"/> are listed too if their id sorts below it (pages are ordered by creation time, then id,
/// both descending), so jobs created in the same tick are neither skipped nor listed twice across a page boundary.
/// </param>
[GenerateSerializer, Immutable, Alias("poolai.JobQuery")]
public sealed record JobQuery(
    [property: Id(0)] JobStatus? Status = null,
    [property: Id(1)] string? Model = null,
    [property: Id(2)] JobKind? Kind = null,
    [property: Id(3)] DateTimeOffset? Before = null,
    [property: Id(4)] int Limit = 20,
    [property: Id(5)] Guid? BeforeJob = null)
{
    /// <summary>Largest page.</summary>
    public const int MaxLimit = 100;
}

/// <summary>A page of a listing, newest first.</summary>
/// <param name="Items">The entries.</param>
/// <param name="NextBefore">Pass as <see cref="JobQuery.Before"/> for the next page; null on the last.</param>
/// <param name="NextBeforeJob">Pass as <see cref="JobQuery.BeforeJob"/> with <paramref name="NextBefore"/>: the last entry's id.</param>
[GenerateSerializer, Immutable, Alias("poolai.JobIndexPage")]
public sealed record JobIndexPage(
    [property: Id(0)] IReadOnlyList<JobIndexEntry> Items,
    [property: Id(1)] DateTimeOffset? NextBefore,
    [property: Id(2)] Guid? NextBeforeJob = null);

/// <summary>
/// The jobs of one requester (keyed by requester), for listing: each job grain reports its status changes here. The
/// index is derived data: a lost report is made good when the job is next activated.
/// </summary>
[Alias("poolai.IJobIndexGrain")]
public interface IJobIndexGrain : IGrainWithStringKey
{
    /// <summary>Records or updates a job; one-way, so reporting never slows the job.</summary>
    [OneWay, Alias("Record")]
    Task RecordAsync(JobIndexEntry entry);

    /// <summary>The jobs matching <paramref name="query"/>, newest first.</summary>
    /// <exception cref="JobValidationException">Limit outside 1–100.</exception>
    [Alias("List")]
    Task<JobIndexPage> ListAsync(JobQuery query);
}
