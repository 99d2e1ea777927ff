using System.Globalization;
using Orleans.Serialization.Serializers;
using Orleans.Storage;

namespace PoolAI.Silo.Storage;

/// <summary>
/// The records of <see cref="InProcessGrainStorage"/>: grain states as serialized bytes, each with a version that is
/// its ETag. One store is one pool's state: a silo makes its own, and silos that run in one process as one cluster (a
/// test cluster) are given the same instance. Thread-safe: 64 shards, each a dictionary under its own lock.
/// </summary>
public sealed class InProcessStateStore
{
    // Shards, each a plain dictionary under its own lock: a write holds one shard for a lookup and a store, and a shard
    // grows alone. A ConcurrentDictionary (256 lock stripes) spent a tenth of the no-op benchmark's CPU waiting on its
    // locks as its table grew to hundreds of thousands of records.
    private const int ShardCount = 64;
    private readonly Shard[] _shards = Enumerable.Range(0, ShardCount).Select(_ => new Shard()).ToArray();
    private long _version;

    /// <summary>The ETag that matches any stored one (Orleans' convention for writes that ignore concurrency).</summary>
    public const string AnyETag = "*";

    /// <summary>Stored records, deleted ones included.</summary>
    public int Count
    {
        get
        {
            var count = 0;
            foreach (var shard in _shards)
            {
                lock (shard.Gate)
                    count += shard.Records.Count;
            }

            return count;
        }
    }

    /// <summary>The record of <paramref name="stateName"/> for <paramref name="grainId"/>; false when there is none.</summary>
    public bool TryGet(string stateName, GrainId grainId, out Record record)
    {
        var key = (stateName, grainId);
        var shard = ShardOf(key);
        lock (shard.Gate)
            return shard.Records.TryGetValue(key, out record!);
    }

    /// <summary>
    /// Stores <paramref name="data"/> (null: deletes) if <paramref name="etag"/> is the stored record's ETag, and returns
    /// the new ETag. A record that was never stored accepts any ETag (its writer read nothing); a deleted one accepts
    /// null or its own.
    /// </summary>
    /// <exception cref="InconsistentStateException">The stored record has another ETag: another activation wrote it since this one read it.</exception>
    public string Put(string stateName, GrainId grainId, string? etag, BinaryData? data)
    {
        var key = (stateName, grainId);
        var shard = ShardOf(key);
        var next = new Record(data, Interlocked.Increment(ref _version));
        lock (shard.Gate)
        {
            ref var slot = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(shard.Records, key, out var exists);
            if (exists && etag != slot!.ETag && !(slot.Data is null && etag is null) && etag != AnyETag)
            {
                var current = slot.ETag;
                throw new InconsistentStateException(
                    $"{stateName} of {grainId} was written by another activation (stored ETag {current}, this one's {etag ?? "none"})",
                    current, etag ?? string.Empty);
            }

            slot = next;
        }

        return next.ETag;
    }

    private Shard ShardOf((string, GrainId) key) => _shards[(key.GetHashCode() & int.MaxValue) % ShardCount];

    private sealed class Shard
    {
        public readonly Lock Gate = new();
        public readonly Dictionary<(string StateName, GrainId GrainId), Record> Records = [];
    }

    /// <summary>One stored state.</summary>
    /// <param name="Data">The serialized state; null once deleted.</param>
    /// <param name="Version">Unique in the store, increasing with every write.</param>
    public sealed record Record(BinaryData? Data, long Version)
    {
        /// <summary>The record's ETag: its version.</summary>
        public string ETag { get; } = Version.ToString(CultureInfo.InvariantCulture);
    }
}

/// <summary>
/// Grain storage in the memory of the silo's process (provider <c>process</c>). Orleans' memory provider (<c>memory</c>)
/// keeps state in storage grains, so every read and write of a grain's state is a grain call — about a quarter of the
/// CPU of a no-op job; this one is a dictionary operation on an <see cref="InProcessStateStore"/>, with the same
/// semantics otherwise: states are serialized (a grain never shares objects with its stored copy), ETags are checked,
/// and everything is lost when the process ends.
/// <para>
/// For a pool whose silos all run in one process: the embedded pool, the benchmarks, a test cluster (whose silos must
/// be given one <see cref="InProcessStateStore"/>). Silos in other processes would each keep their own states, and an
/// activation moved between them (the activation rebalancer moves grains) would find its state missing or stale; such
/// a pool uses <c>memory</c> or a database.
/// </para>
/// </summary>
/// <param name="store">The records, shared by every silo of the process that should see the same states.</param>
/// <param name="serializer">Turns states into the stored bytes and back.</param>
/// <param name="activators">Makes the empty state of a missing record, as Orleans' own state bridge does (a positional record has no parameterless constructor).</param>
public sealed class InProcessGrainStorage(InProcessStateStore store, IGrainStorageSerializer serializer, IActivatorProvider activators) : IGrainStorage
{
    /// <inheritdoc />
    public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        if (store.TryGet(stateName, grainId, out var record) && record.Data is { } data)
        {
            grainState.State = serializer.Deserialize<T>(data) ?? activators.GetActivator<T>().Create();
            grainState.ETag = record.ETag;
            grainState.RecordExists = true;
        }
        else
        {
            // Missing or deleted: a re-read after another writer cleared it must not keep the old state and ETag.
            grainState.State = activators.GetActivator<T>().Create();
            grainState.ETag = null;
            grainState.RecordExists = false;
        }

        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var data = serializer.Serialize(grainState.State);
        grainState.ETag = store.Put(stateName, grainId, grainState.ETag, data);
        grainState.RecordExists = true;
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        store.Put(stateName, grainId, grainState.ETag, null);
        grainState.ETag = null;
        grainState.RecordExists = false;
        return Task.CompletedTask;
    }
}
