using Orleans.Storage;
using PoolAI.Storage;

namespace PoolAI.Jobs;

/// <summary>
/// Where a job queue keeps itself: its own record (the jobs it counts as running, each with its unit and requester,
/// and the page count; state name <c>queue</c>) and its waiting jobs in pages of <see cref="PageSize"/>
/// (<see cref="PagedRecords{TEntry}"/>, records <c>queue-page-N</c>), so a write stores the pages that changed, a few
/// KiB, not every waiting job.
/// <para>
/// Durability: an enqueue returns once the stored state holds the job (concurrent enqueues share a write,
/// <see cref="GroupCommit"/>); starts, releases and removals are stored by the next write without being waited for.
/// The job grain's own state is the authority: a start the queue forgot in a crash is found again when the job answers
/// a new start with the placement it already runs on, and a release it forgot when it wakes its running jobs.
/// </para>
/// </summary>
internal sealed class QueueStore(IPersistentState<JobQueueState> state, IGrainStorage storage, GrainId grain)
{
    /// <summary>The state name of the pages of waiting jobs without the page number: <c>queue-page-0</c>, <c>queue-page-1</c>, …</summary>
    public const string PagePrefix = "queue-page";

    /// <summary>
    /// Most jobs added to one page. An enqueue waits for the write of the page it was added to, so a page is written
    /// about once per few enqueues: at 64 entries (about 6 KiB) that costs far less than the job's own writes, and a
    /// backlog of 100,000 jobs is 1,563 records. Pages stored with another size are read as they are.
    /// </summary>
    public const int PageSize = 64;

    private readonly PagedRecords<QueuedJob> _records = new(storage, grain, PagePrefix, PageSize);

    private JobQueueState State => state.State;

    /// <summary>Reads the stored queue into a new book; true with it when the stored form is old and must be written again.</summary>
    public async Task<(QueueBook Book, bool Rewrite)> LoadAsync(string key, JobOptions options)
    {
        foreach (var jobId in State.LegacyRunning)
            State.Running.TryAdd(jobId, string.Empty);
        State.LegacyRunning.Clear();
        var book = new QueueBook(key, _records.Pages, options.MaxRunningPerRequester, options.AgeingInterval);
        foreach (var (page, job) in await _records.ReadAsync(State.PageCount))
        {
            // An entry of a job counted as running is stale (its removal was not stored yet); so is a second copy.
            if (!State.Running.ContainsKey(job.JobId) && !book.Pending.Contains(job.JobId) && _records.Pages.Load(page, job.JobId))
                book.Pending.Add(job);
        }

        foreach (var job in State.Pending)
        {
            // Stored before pages: moved onto pages by the next write.
            if (!State.Running.ContainsKey(job.JobId))
                book.AddPending(job);
        }

        foreach (var (jobId, unit) in State.Running)
            book.MarkRunning(jobId, unit, State.RunningRequesters.GetValueOrDefault(jobId));
        book.TakeRunningChanged();
        if (State.Pending.Count == 0)
            return (book, false);
        book.MarkRunningChanged(); // the queue's own record is written again without them
        return (book, true);
    }

    /// <summary>
    /// One write (see <see cref="GroupCommit"/>): the pages that changed and, when starts or releases changed it or the
    /// page count grew, the queue's own record. The page count is stored before any page beyond the stored count is
    /// written, so recovery reads every page that may exist. Takes copies before its first await: calls that interleave
    /// with the write change the book, never what is being written.
    /// </summary>
    public async Task WriteAsync(QueueBook book)
    {
        var storedPageCount = State.PageCount;
        var pageCountGrew = storedPageCount != _records.Pages.PageCount;
        var writeMain = book.TakeRunningChanged() || pageCountGrew;
        if (writeMain)
        {
            State.Pending = [];
            State.Running = new(book.Running);
            State.RunningRequesters = new(book.RunningRequesters);
            State.PageCount = _records.Pages.PageCount;
        }

        var pages = _records.TakeChanges(jobId => book.Pending.TryGet(jobId, out var job) ? job : null);
        try
        {
            if (pageCountGrew)
                await state.WriteStateAsync();
        }
        catch
        {
            book.MarkRunningChanged();
            State.PageCount = storedPageCount; // so that the next write stores the count first again
            pages.Abandon();
            throw;
        }

        try
        {
            await (writeMain && !pageCountGrew ? Task.WhenAll(state.WriteStateAsync(), pages.RunAsync()) : pages.RunAsync());
        }
        catch
        {
            if (writeMain && !pageCountGrew)
                book.MarkRunningChanged(); // a failed page write marked its pages changed again
            throw;
        }
    }
}
