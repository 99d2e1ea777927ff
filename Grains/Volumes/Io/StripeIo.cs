using System.Buffers;
using System.Collections.Concurrent;
using System.IO.Hashing;
using System.Security.Cryptography;
using PoolAI.Volumes.Coding;

namespace PoolAI.Volumes;

/// <summary>
/// Moves one volume's stripes between memory and stores: encodes and places a stripe's shards (encrypting those the
/// volume or the store requires, with audit tickets prepared from the stored bytes), and reads a stripe back from any K
/// good shards. Every shard read is checked against the XxHash128 the writer recorded (and, if encrypted, its GCM tag),
/// so a store that returns wrong bytes — a flipped bit, or an open miner that lies — is caught and reported as damage.
/// Used by readers and writers (the SDK, the gateway) and by the volume's rebuild and scrub.
/// </summary>
public sealed class StripeIo
{
    /// <summary>Audit tickets prepared per shard.</summary>
    public const int TicketsPerShard = 8;

    /// <summary>Bytes one audit challenge covers (less for smaller shards).</summary>
    public const int AuditBytes = 4096;

    private static readonly ConcurrentDictionary<(int, int), ReedSolomon> Codecs = new();
    private readonly IGrainFactory _grains;
    private readonly byte[] _key;

    /// <summary>Stripes of <paramref name="volume"/> with <paramref name="layout"/>; <paramref name="dataKey"/> is the volume's key (empty when no shard is encrypted).</summary>
    public StripeIo(IGrainFactory grains, string volume, VolumeLayout layout, byte[] dataKey)
    {
        _grains = grains;
        _key = dataKey;
        Volume = volume;
        Layout = layout;
    }

    /// <summary>The volume.</summary>
    public string Volume { get; }

    /// <summary>Its layout.</summary>
    public VolumeLayout Layout { get; }

    /// <summary>A shard token for this volume (<see cref="ShardTokens"/>): with it, shards move over the stores' shard transport (<see cref="ShardTransport"/>) where a store has one; null to always call the stores' grains.</summary>
    public string? DataToken { get; init; }

    /// <summary>The shard transport endpoint of a store by id, for reads (writes take it from the store's registration); null when none is known.</summary>
    public Func<string, string?>? Endpoints { get; init; }

    /// <summary>How long one store may take to answer before its shard counts as unavailable.</summary>
    public TimeSpan ShardTimeout { get; init; } = TimeSpan.FromSeconds(20);

    /// <summary>The codec for <paramref name="layout"/> (null for a mirror, whose shards are copies).</summary>
    public static ReedSolomon? CodecOf(VolumeLayout layout) =>
        layout.Mirror ? null : Codecs.GetOrAdd((layout.DataShards, layout.ParityShards), k => new ReedSolomon(k.Item1, k.Item2));

    /// <summary>
    /// Cuts <paramref name="data"/> (at most K × shard bytes) into K data shards of ⌈length / K⌉ bytes (the last
    /// zero-padded) and computes the M parity shards: K + M plaintext shards.
    /// </summary>
    public byte[][] Encode(ReadOnlySpan<byte> data)
    {
        var shardBytes = StripeGeometry.ShardBytesFor(Layout, data.Length);
        return Encode(data, shardBytes, () => new byte[shardBytes]);
    }

    /// <summary>
    /// As <see cref="Encode(ReadOnlySpan{byte})"/>, into arrays rented from <paramref name="pool"/> (each at least
    /// <paramref name="shardBytes"/> long; the shard is its first <paramref name="shardBytes"/> bytes). A mirror's copies
    /// are one array: return each distinct array once (<see cref="ReturnShards"/>).
    /// </summary>
    public byte[][] EncodePooled(ReadOnlySpan<byte> data, ArrayPool<byte> pool, out int shardBytes)
    {
        var bytes = shardBytes = StripeGeometry.ShardBytesFor(Layout, data.Length);
        return Encode(data, bytes, () => pool.Rent(bytes));
    }

    /// <summary>Returns the arrays of <see cref="EncodePooled"/> to <paramref name="pool"/>.</summary>
    public static void ReturnShards(byte[][] shards, ArrayPool<byte> pool)
    {
        foreach (var array in shards.Distinct(ReferenceEqualityComparer.Instance).Cast<byte[]>())
            pool.Return(array);
    }

    private byte[][] Encode(ReadOnlySpan<byte> data, int shardBytes, Func<byte[]> allocate)
    {
        var shards = new byte[Layout.TotalShards][];
        for (var i = 0; i < Layout.DataShards; i++)
        {
            shards[i] = allocate();
            var start = Math.Min(i * shardBytes, data.Length);
            var count = Math.Min(shardBytes, data.Length - start);
            data.Slice(start, count).CopyTo(shards[i]);
            shards[i].AsSpan(count, shardBytes - count).Clear();
        }

        if (CodecOf(Layout) is { } codec)
        {
            for (var i = Layout.DataShards; i < Layout.TotalShards; i++)
                shards[i] = allocate();
            var inputs = shards.Take(Layout.DataShards).Select(s => (ReadOnlyMemory<byte>)s.AsMemory(0, shardBytes)).ToArray();
            var outputs = shards.Skip(Layout.DataShards).Select(s => s.AsMemory(0, shardBytes)).ToArray();
            codec.Encode(inputs, outputs);
        }
        else
        {
            for (var i = 1; i < Layout.TotalShards; i++)
                shards[i] = shards[0]; // a mirror's copies: the same bytes to each store
        }

        return shards;
    }

    /// <summary>Stores plaintext shard <paramref name="shard"/> of stripe <paramref name="stripe"/> of <paramref name="write"/> on <paramref name="store"/>; encrypted when <paramref name="encryptAll"/> or the store is an open miner's.</summary>
    /// <exception cref="InvalidDataException">The store reported a checksum other than that of the bytes sent.</exception>
    public Task<ShardRecord> PutShardAsync(StoreRegistration store, Guid write, int stripe, int shard, byte[] plaintext, bool encryptAll) =>
        PutShardAsync(store, write, stripe, shard, plaintext.AsMemory(), encryptAll);

    /// <summary>As <see cref="PutShardAsync(StoreRegistration, Guid, int, int, byte[], bool)"/>, from memory the caller may reuse once this completes.</summary>
    /// <exception cref="InvalidDataException">The store reported a checksum other than that of the bytes sent.</exception>
    public async Task<ShardRecord> PutShardAsync(StoreRegistration store, Guid write, int stripe, int shard, ReadOnlyMemory<byte> plaintext, bool encryptAll)
    {
        var id = ShardIds.Of(Volume, write, stripe, shard);
        var encrypt = encryptAll || store.Kind == StoreKind.Open;
        if (encrypt && _key.Length != 32)
            throw new InvalidOperationException("the volume's data key is needed to encrypt a shard");
        var stored = encrypt ? ShardCrypto.Encrypt(_key, id, plaintext.Span) : plaintext;
        var checksum = XxHash128.Hash(stored.Span);
        var tickets = Tickets(stored.Span);
        var receipt = DataToken is { } token && store.Kind == StoreKind.Trusted && store.DataEndpoint is { } endpoint
            ? await ShardTransport.TryPutAsync(endpoint, token, store.StoreId, id, stored)
            : null;
        // A grain call keeps its argument until the message is sent (and after a timeout): it gets an array of its own.
        receipt ??= await ShardStores.Of(_grains, store.StoreId).PutShardAsync(id, stored.ToArray()).WaitAsync(ShardTimeout);
        if (!receipt.Checksum.AsSpan().SequenceEqual(checksum) || receipt.Bytes != stored.Length)
            throw new InvalidDataException($"store {store.StoreId} acknowledged other bytes than it was sent for {id}");
        return new ShardRecord(store.StoreId, checksum, encrypt, tickets);
    }

    /// <summary>
    /// Shard <paramref name="shard"/>'s plaintext from its store, or null — with the reason added to
    /// <paramref name="damage"/> — when the store is down, lacks it, or returns bytes that fail the checksum or tag.
    /// </summary>
    public async Task<byte[]?> FetchShardAsync(Guid write, StripeRecord stripe, int shard, ICollection<ShardDamage> damage, Func<string, bool>? alive = null)
    {
        var record = stripe.Shards[shard];
        var id = ShardIds.Of(Volume, write, stripe.Index, shard);
        if (record.IsMissing)
        {
            Add(damage, new ShardDamage(write, stripe.Index, shard, record.Store, ShardReadStatus.Missing, "not stored: the write kept the stripe at its write quorum"));
            return null;
        }

        if (alive is not null && !alive(record.Store))
        {
            Add(damage, new ShardDamage(write, stripe.Index, shard, record.Store, ShardReadStatus.Missing, "store is down"));
            return null;
        }

        ShardRead? read;
        try
        {
            read = DataToken is { } token && Endpoints?.Invoke(record.Store) is { } endpoint
                ? await ShardTransport.TryGetAsync(endpoint, token, record.Store, id)
                : null;
            read ??= await ShardStores.Of(_grains, record.Store).GetShardAsync(id, 0, int.MaxValue).WaitAsync(ShardTimeout);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            Add(damage, new ShardDamage(write, stripe.Index, shard, record.Store, ShardReadStatus.Missing, $"store unavailable: {e.GetType().Name}: {e.Message}"));
            return null;
        }

        if (read.Status != ShardReadStatus.Ok)
        {
            Add(damage, new ShardDamage(write, stripe.Index, shard, record.Store, read.Status, read.Detail ?? read.Status.ToString()));
            return null;
        }

        if (!XxHash128.Hash(read.Data).AsSpan().SequenceEqual(record.Checksum))
        {
            Add(damage, new ShardDamage(write, stripe.Index, shard, record.Store, ShardReadStatus.Corrupt, "bytes differ from the checksum the writer recorded"));
            return null;
        }

        try
        {
            var plaintext = record.Encrypted ? ShardCrypto.Decrypt(_key, id, read.Data) : read.Data;
            if (plaintext.Length != stripe.ShardBytes)
                throw new CryptographicException($"{plaintext.Length} bytes where the stripe has {stripe.ShardBytes}-byte shards");
            return plaintext;
        }
        catch (CryptographicException e)
        {
            Add(damage, new ShardDamage(write, stripe.Index, shard, record.Store, ShardReadStatus.Corrupt, e.Message));
            return null;
        }
    }

    /// <summary>
    /// The plaintext of every shard in <paramref name="wanted"/> (null entries elsewhere): fetched where they are good,
    /// else reconstructed from any K good shards of the stripe. Returns null when fewer than K are good (the stripe is lost).
    /// </summary>
    public async Task<byte[]?[]?> RecoverAsync(Guid write, StripeRecord stripe, IReadOnlyCollection<int> wanted, ICollection<ShardDamage> damage, Func<string, bool>? alive = null)
    {
        var shards = new byte[]?[Layout.TotalShards];
        var tried = new HashSet<int>();
        var mirror = Layout.Mirror;
        // Data shards first (no decoding when they are all good), then parity, a round at a time.
        IEnumerable<int> order = mirror ? Enumerable.Range(0, Layout.TotalShards) : wanted.Where(i => i < Layout.DataShards).Concat(Enumerable.Range(0, Layout.TotalShards));
        var candidates = order.Distinct().ToList();
        var need = mirror ? 1 : Layout.DataShards;
        while (true)
        {
            var good = shards.Count(s => s is not null);
            var missingWanted = wanted.Count(i => shards[i] is null);
            if (missingWanted == 0)
                return shards;
            if (good >= need)
                break;
            var next = candidates.Where(i => !tried.Contains(i)).Take(mirror ? 1 : Math.Max(need - good, wanted.Count(i => shards[i] is null && !tried.Contains(i)))).ToList();
            if (next.Count == 0)
                return null;
            foreach (var i in next)
                tried.Add(i);
            var fetched = await Task.WhenAll(next.Select(i => FetchShardAsync(write, stripe, i, damage, alive)));
            for (var n = 0; n < next.Count; n++)
                shards[next[n]] = fetched[n];
        }

        if (mirror)
        {
            var copy = shards.First(s => s is not null)!;
            foreach (var i in wanted)
                shards[i] = copy;
            return shards;
        }

        var buffers = new Memory<byte>[Layout.TotalShards];
        var present = new bool[Layout.TotalShards];
        for (var i = 0; i < buffers.Length; i++)
        {
            present[i] = shards[i] is not null;
            buffers[i] = shards[i] ?? new byte[stripe.ShardBytes];
        }

        var dataOnly = wanted.All(i => i < Layout.DataShards);
        CodecOf(Layout)!.Reconstruct(buffers, present, dataOnly);
        foreach (var i in wanted)
            shards[i] ??= buffers[i].ToArray();
        return shards;
    }

    /// <summary>The file bytes of a stripe (its first <see cref="StripeRecord.DataBytes"/> data-shard bytes), or null when it is lost.</summary>
    public async Task<byte[]?> ReadStripeAsync(Guid write, StripeRecord stripe, ICollection<ShardDamage> damage, Func<string, bool>? alive = null)
    {
        var wanted = Enumerable.Range(0, Layout.DataShards).Where(i => StripeGeometry.DataBytesIn(stripe, i) > 0).ToList();
        var shards = await RecoverAsync(write, stripe, wanted, damage, alive);
        if (shards is null)
            return null;
        var data = new byte[stripe.DataBytes];
        foreach (var i in wanted)
            shards[i].AsSpan(0, StripeGeometry.DataBytesIn(stripe, i)).CopyTo(data.AsSpan(i * stripe.ShardBytes));
        return data;
    }

    private static AuditTicket[] Tickets(ReadOnlySpan<byte> stored)
    {
        var tickets = new AuditTicket[TicketsPerShard];
        var count = Math.Min(AuditBytes, stored.Length);
        for (var i = 0; i < tickets.Length; i++)
        {
            var nonce = RandomNumberGenerator.GetBytes(16);
            var offset = stored.Length - count == 0 ? 0 : RandomNumberGenerator.GetInt32(stored.Length - count + 1);
            tickets[i] = new AuditTicket(nonce, offset, count, ShardAudits.Answer(nonce, stored.Slice(offset, count)));
        }

        return tickets;
    }

    private static void Add(ICollection<ShardDamage> damage, ShardDamage item)
    {
        lock (damage)
            damage.Add(item);
    }
}
