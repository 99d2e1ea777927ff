using Orleans.Storage;

namespace PoolAI.Storage;

/// <summary>
/// A grain's many entries stored in pages: page N is the record <c>{prefix}-N</c> of the same grain in the grain's
/// storage provider, holding a <see cref="RecordPage{TEntry}"/>. <see cref="Pages"/> says which page holds which entry;
/// the grain keeps the entries themselves and, in its own state, the page count. That count must be stored before any
/// page at or beyond the count stored earlier is written, so that a grain reading back pages 0 … count − 1 after a crash
/// finds every page that may exist (and its ETag: a page written without one would be refused as a conflict).
/// </summary>
/// <param name="storage">The grain's storage provider.</param>
/// <param name="grainId">The grain the pages belong to.</param>
/// <param name="prefix">The state name of the pages without the page number, e.g. <c>queue-page</c>.</param>
/// <param name="pageSize">Most entries added to one page.</param>
public sealed class PagedRecords<TEntry>(IGrainStorage storage, GrainId grainId, string prefix, int pageSize = StoragePages.DefaultPageSize)
    where TEntry : class
{
    private readonly Dictionary<int, GrainState<RecordPage<TEntry>>> _stored = [];

    /// <summary>Which page holds which entry, and which pages changed.</summary>
    public StoragePages Pages { get; } = new(pageSize);

    /// <summary>The state name of page <paramref name="page"/>.</summary>
    public string PageName(int page) => $"{prefix}-{page}";

    /// <summary>
    /// Reads pages 0 … <paramref name="pageCount"/> − 1 and returns their entries, each with the page it was read from;
    /// the caller places the ones it keeps with <see cref="StoragePages.Load"/>.
    /// </summary>
    public async Task<List<(int Page, TEntry Entry)>> ReadAsync(int pageCount)
    {
        Pages.Reserve(pageCount);
        var entries = new List<(int, TEntry)>();
        for (var page = 0; page < pageCount; page++)
        {
            var stored = new GrainState<RecordPage<TEntry>>(new RecordPage<TEntry>());
            await storage.ReadStateAsync(PageName(page), grainId, stored);
            _stored[page] = stored;
            foreach (var entry in stored.State?.Entries ?? [])
                entries.Add((page, entry));
        }

        return entries;
    }

    /// <summary>
    /// Takes the pages changed since the last call, each with its entries as <paramref name="entryOf"/> gives them now
    /// (a key without an entry is left out), and returns their write: it stores what was taken, whatever changes
    /// after, and marks the pages changed again if it fails or is abandoned.
    /// </summary>
    public PageWrite TakeChanges(Func<Guid, TEntry?> entryOf)
    {
        var dirty = Pages.TakeDirty();
        var pages = new (int Page, List<TEntry> Entries)[dirty.Length];
        for (var i = 0; i < dirty.Length; i++)
        {
            var entries = new List<TEntry>(Pages.Members(dirty[i]).Count);
            foreach (var key in Pages.Members(dirty[i]))
            {
                if (entryOf(key) is { } entry)
                    entries.Add(entry);
            }

            pages[i] = (dirty[i], entries);
        }

        return new PageWrite(this, dirty, pages);
    }

    private Task WritePageAsync(int page, List<TEntry> entries)
    {
        if (!_stored.TryGetValue(page, out var stored))
            _stored[page] = stored = new GrainState<RecordPage<TEntry>>(new RecordPage<TEntry>());
        stored.State = new RecordPage<TEntry> { Entries = entries };
        return storage.WriteStateAsync(PageName(page), grainId, stored);
    }

    /// <summary>A write of the pages taken by <see cref="TakeChanges"/>.</summary>
    public sealed class PageWrite
    {
        private readonly PagedRecords<TEntry> _owner;
        private readonly int[] _dirty;
        private readonly (int Page, List<TEntry> Entries)[] _pages;

        internal PageWrite(PagedRecords<TEntry> owner, int[] dirty, (int Page, List<TEntry> Entries)[] pages)
        {
            _owner = owner;
            _dirty = dirty;
            _pages = pages;
        }

        /// <summary>Pages in this write.</summary>
        public int Count => _pages.Length;

        /// <summary>Writes the pages (concurrently); on failure they are marked changed again and the error is thrown.</summary>
        public async Task RunAsync()
        {
            if (_pages.Length == 0)
                return;
            try
            {
                await Task.WhenAll(_pages.Select(p => _owner.WritePageAsync(p.Page, p.Entries)));
            }
            catch
            {
                Abandon();
                throw;
            }
        }

        /// <summary>Gives the write up: its pages are marked changed again.</summary>
        public void Abandon() => _owner.Pages.MarkDirty(_dirty);
    }
}

/// <summary>One stored page of a <see cref="PagedRecords{TEntry}"/>, unordered.</summary>
[GenerateSerializer, Alias("poolai.RecordPage`1")]
public sealed class RecordPage<TEntry>
{
    /// <summary>The entries on this page.</summary>
    [Id(0)] public List<TEntry> Entries { get; set; } = [];
}
