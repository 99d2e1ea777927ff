namespace PoolAI.Storage;

/// <summary>
/// Which storage page holds each entry of a grain that keeps many (a queue's waiting jobs, a requester's job index).
/// Such a grain stores its entries in pages, each a record of its own (<see cref="PagedRecords{TEntry}"/>), so that a
/// write stores the pages that changed, not every entry: with a hundred thousand jobs waiting, a start or an enqueue
/// rewrites one page of at most <see cref="PageSize"/> entries.
/// <para>
/// New entries go to the tail page until <see cref="PageSize"/> have been added to it; then a new tail is taken, the
/// lowest free page id first, so page ids (and stored records) stay as few as the pages ever needed at once. Entries
/// leave and change roughly oldest first (dispatch, pruning), so a write touches few pages. A page that empties is
/// freed; it is stored empty before it is used again.
/// </para>
/// </summary>
/// <param name="pageSize">Most entries added to one page, ≥ 1.</param>
public sealed class StoragePages(int pageSize = StoragePages.DefaultPageSize)
{
    /// <summary>Entries per page by default: a page of queued jobs stores in about 100 KB.</summary>
    public const int DefaultPageSize = 1024;

    private readonly Dictionary<Guid, int> _pageOf = [];
    private readonly List<HashSet<Guid>> _members = [];
    private readonly SortedSet<int> _free = [];
    private readonly HashSet<int> _dirty = [];
    private int _tail = -1;
    private int _tailAdded;

    /// <summary>Most jobs added to one page.</summary>
    public int PageSize { get; } = pageSize >= 1 ? pageSize : throw new ArgumentOutOfRangeException(nameof(pageSize), pageSize, "must be at least 1");

    /// <summary>Page ids in use or once used: 0 … PageCount − 1. Records beyond it were never written.</summary>
    public int PageCount => _members.Count;

    /// <summary>Entries on pages.</summary>
    public int Count => _pageOf.Count;

    /// <summary>Pages changed since the last <see cref="TakeDirty"/>.</summary>
    public int DirtyCount => _dirty.Count;

    /// <summary>The page holding <paramref name="jobId"/>, or −1.</summary>
    public int PageOf(Guid jobId) => _pageOf.GetValueOrDefault(jobId, -1);

    /// <summary>The jobs on page <paramref name="page"/>.</summary>
    public IReadOnlyCollection<Guid> Members(int page) => _members[page];

    /// <summary>Puts <paramref name="jobId"/> on the tail page; nothing when it is on a page already.</summary>
    public void Add(Guid jobId)
    {
        if (_pageOf.ContainsKey(jobId))
            return;
        if (_tail < 0 || _tailAdded >= PageSize)
            NewTail();
        _members[_tail].Add(jobId);
        _pageOf[jobId] = _tail;
        _tailAdded++;
        _dirty.Add(_tail);
    }

    /// <summary>Marks the page holding <paramref name="jobId"/> changed (its entry changed), or puts it on the tail page when it is on none.</summary>
    public void Changed(Guid jobId)
    {
        if (_pageOf.TryGetValue(jobId, out var page))
            _dirty.Add(page);
        else
            Add(jobId);
    }

    /// <summary>Takes <paramref name="jobId"/> off its page; nothing when it is on none.</summary>
    public void Remove(Guid jobId)
    {
        if (!_pageOf.Remove(jobId, out var page))
            return;
        var members = _members[page];
        members.Remove(jobId);
        _dirty.Add(page);
        if (members.Count == 0 && page != _tail)
            _free.Add(page);
    }

    /// <summary>
    /// Recovery: places <paramref name="jobId"/> on <paramref name="page"/>, the stored page it was read from (page ids
    /// up to <paramref name="page"/> come into use). False when it is on a page already (read from two pages: a crash
    /// between the writes that moved it); the page it is on now is marked to be written.
    /// </summary>
    public bool Load(int page, Guid jobId)
    {
        while (_members.Count <= page)
        {
            _free.Add(_members.Count);
            _members.Add([]);
        }

        if (_pageOf.TryGetValue(jobId, out var on))
        {
            _dirty.Add(page);
            _dirty.Add(on);
            return false;
        }

        _members[page].Add(jobId);
        _pageOf[jobId] = page;
        _free.Remove(page);
        return true;
    }

    /// <summary>Recovery: page ids below <paramref name="count"/> are in use or once were (their records may exist).</summary>
    public void Reserve(int count)
    {
        while (_members.Count < count)
        {
            _free.Add(_members.Count);
            _members.Add([]);
        }
    }

    /// <summary>The pages changed since the last call, which are then clean.</summary>
    public int[] TakeDirty()
    {
        var dirty = _dirty.ToArray();
        _dirty.Clear();
        return dirty;
    }

    /// <summary>Marks <paramref name="pages"/> changed again (their write failed).</summary>
    public void MarkDirty(IEnumerable<int> pages) => _dirty.UnionWith(pages);

    private void NewTail()
    {
        if (_tail >= 0 && _members[_tail].Count == 0)
            _free.Add(_tail);
        if (_free.Count > 0)
        {
            _tail = _free.Min;
            _free.Remove(_tail);
        }
        else
        {
            _tail = _members.Count;
            _members.Add([]);
        }

        _tailAdded = 0;
    }
}
