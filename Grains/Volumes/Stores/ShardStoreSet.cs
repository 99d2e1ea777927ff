namespace PoolAI.Volumes.Stores;

/// <summary>The stores of one silo: one <see cref="ShardStore"/> per drive, by store id (see <see cref="ChunkStoreOptions.Drives"/>).</summary>
public sealed class ShardStoreSet
{
    /// <summary>Separates a worker id from a drive number in a store id.</summary>
    public const char DriveSeparator = '~';

    private readonly Dictionary<string, ShardStore> _stores;

    /// <summary>Opens <paramref name="drives"/> stores of worker <paramref name="worker"/> under <paramref name="root"/>.</summary>
    public ShardStoreSet(string worker, string root, int drives, bool flushToDisk)
    {
        Worker = worker;
        _stores = new Dictionary<string, ShardStore>(StringComparer.Ordinal);
        for (var drive = 1; drive <= drives; drive++)
            _stores[StoreIdOf(worker, drive)] = new ShardStore(drives == 1 ? root : Path.Combine(root, $"drive-{drive}"), flushToDisk);
    }

    /// <summary>The silo's worker id.</summary>
    public string Worker { get; }

    /// <summary>Every store, by id.</summary>
    public IReadOnlyDictionary<string, ShardStore> Stores => _stores;

    /// <summary>The first drive's store (its id is the worker id).</summary>
    public ShardStore Primary => _stores[Worker];

    /// <summary>The store with id <paramref name="storeId"/>, or null when this silo has none.</summary>
    public ShardStore? Find(string storeId) => _stores.GetValueOrDefault(storeId);

    /// <summary>The store id of drive <paramref name="drive"/> (1-based) of <paramref name="worker"/>.</summary>
    public static string StoreIdOf(string worker, int drive) => drive == 1 ? worker : $"{worker}{DriveSeparator}{drive}";

    /// <summary>The worker that holds store <paramref name="storeId"/>: the id before <see cref="DriveSeparator"/>.</summary>
    public static string WorkerOf(string storeId) => storeId.IndexOf(DriveSeparator, StringComparison.Ordinal) is var at and >= 0 ? storeId[..at] : storeId;
}
