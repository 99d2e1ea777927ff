using System.Buffers.Binary;
using System.IO.Hashing;
using PoolAI.Jobs;

namespace PoolAI.Volumes.Stores;

/// <summary>
/// Shards as files on one disk: <c>ROOT/VOLUME/WRITE/STRIPE.SHARD</c>, each a 32-byte header — magic <c>PAISHARD</c>,
/// payload length (int64 little-endian), XxHash128 of the payload (16 bytes) — then the payload. Every read checks the
/// payload against the header's hash, so a flipped bit or a torn file is reported as <see cref="ShardReadStatus.Corrupt"/>
/// and never returned. Writes go to a temporary file in the same folder, are flushed, then renamed over the shard, so a
/// crash leaves the old shard or the new one. Thread-safe; used by a trusted silo's <c>ChunkStoreGrain</c> and by an
/// open miner's channel client alike.
/// </summary>
public sealed class ShardStore
{
    private const int HeaderBytes = 32;
    private static ReadOnlySpan<byte> Magic => "PAISHARD"u8;
    private readonly bool _flush;
    private long _bytes;
    private long _shards;

    /// <summary>Opens (creating) the store in <paramref name="root"/> and counts what it holds.</summary>
    /// <param name="root">Folder of the store; created owner-only if missing.</param>
    /// <param name="flushToDisk">fsync each shard before it is renamed into place (survives a power cut, not only a crash).</param>
    public ShardStore(string root, bool flushToDisk = true)
    {
        Root = Path.GetFullPath(root);
        _flush = flushToDisk;
        if (!Directory.Exists(Root))
        {
            if (OperatingSystem.IsWindows())
                Directory.CreateDirectory(Root);
            else
                Directory.CreateDirectory(Root, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        foreach (var file in Directory.EnumerateFiles(Root, "*", SearchOption.AllDirectories))
        {
            if (Path.GetFileName(file).StartsWith(".tmp-", StringComparison.Ordinal))
            {
                File.Delete(file); // a write the process did not finish
                continue;
            }

            _bytes += new FileInfo(file).Length - HeaderBytes;
            _shards++;
        }
    }

    /// <summary>The store's folder.</summary>
    public string Root { get; }

    /// <summary>The file that holds shard <paramref name="shard"/> (for tests and tools).</summary>
    /// <exception cref="JobValidationException">Field <c>shard</c>: not a shard id.</exception>
    public string PathOf(string shard)
    {
        var (volume, write, stripe, index) = ShardIds.Parse(shard);
        return Path.Combine(Root, volume, write.ToString("N"), $"{stripe}.{index}");
    }

    /// <summary>Stores a shard; see <see cref="IShardStoreGrain.PutShardAsync"/>.</summary>
    /// <exception cref="JobValidationException">Field <c>shard</c> or <c>data</c>.</exception>
    public async Task<ShardReceipt> PutAsync(string shard, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        if (data.Length > ShardIds.MaxShardBytes)
            throw new JobValidationException("data", $"a shard holds at most {ShardIds.MaxShardBytes} bytes (got {data.Length})");
        var path = PathOf(shard);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var checksum = XxHash128.Hash(data.Span);
        var header = new byte[HeaderBytes];
        Magic.CopyTo(header);
        BinaryPrimitives.WriteInt64LittleEndian(header.AsSpan(8), data.Length);
        checksum.CopyTo(header, 16);
        var temporary = Path.Combine(Path.GetDirectoryName(path)!, $".tmp-{Guid.NewGuid():N}");
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Options = FileOptions.Asynchronous, PreallocationSize = HeaderBytes + data.Length };
        if (!OperatingSystem.IsWindows())
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        try
        {
            await using (var file = new FileStream(temporary, options))
            {
                await file.WriteAsync(header, cancellationToken);
                await file.WriteAsync(data, cancellationToken);
                if (_flush)
                    file.Flush(flushToDisk: true);
            }

            var previous = File.Exists(path) ? new FileInfo(path).Length - HeaderBytes : -1;
            File.Move(temporary, path, overwrite: true);
            Interlocked.Add(ref _bytes, data.Length - Math.Max(previous, 0));
            if (previous < 0)
                Interlocked.Increment(ref _shards);
        }
        catch
        {
            File.Delete(temporary);
            throw;
        }

        return new ShardReceipt(data.Length, checksum);
    }

    /// <summary>Reads a shard's range after checking the whole payload; see <see cref="IShardStoreGrain.GetShardAsync"/>.</summary>
    /// <exception cref="JobValidationException">Field <c>shard</c>, <c>offset</c> or <c>count</c>.</exception>
    public async Task<ShardRead> GetAsync(string shard, long offset, int count, CancellationToken cancellationToken = default)
    {
        if (offset < 0)
            throw new JobValidationException("offset", $"must be ≥ 0 (got {offset})");
        if (count < 0)
            throw new JobValidationException("count", $"must be ≥ 0 (got {count})");
        var (status, payload, detail) = await ReadVerifiedAsync(shard, cancellationToken);
        if (status != ShardReadStatus.Ok)
            return new ShardRead(status, [], detail);
        if (offset == 0 && count >= payload.Length)
            return new ShardRead(ShardReadStatus.Ok, payload);
        var start = (int)Math.Min(offset, payload.Length);
        return new ShardRead(ShardReadStatus.Ok, payload.AsSpan(start, Math.Min(count, payload.Length - start)).ToArray());
    }

    /// <summary>Answers a storage audit; see <see cref="IShardStoreGrain.AuditShardAsync"/>.</summary>
    /// <exception cref="JobValidationException">Field <c>nonce</c> (8–64 bytes), <c>offset</c> or <c>count</c> (1 to <see cref="ShardAudits.MaxRange"/>).</exception>
    public async Task<ShardRead> AuditAsync(string shard, byte[] nonce, long offset, int count, CancellationToken cancellationToken = default)
    {
        if (nonce.Length is < 8 or > 64)
            throw new JobValidationException("nonce", $"must be 8 to 64 bytes (got {nonce.Length})");
        if (count is < 1 or > ShardAudits.MaxRange)
            throw new JobValidationException("count", $"must be 1 to {ShardAudits.MaxRange} bytes (got {count})");
        var read = await GetAsync(shard, offset, count, cancellationToken);
        return read.Status == ShardReadStatus.Ok ? new ShardRead(ShardReadStatus.Ok, ShardAudits.Answer(nonce, read.Data)) : read;
    }

    /// <summary>Deletes shards; returns how many existed.</summary>
    public int Delete(IEnumerable<string> shards)
    {
        var deleted = 0;
        foreach (var shard in shards)
        {
            var path = PathOf(shard);
            if (TryDelete(path))
                deleted++;
        }

        return deleted;
    }

    /// <summary>Deletes every shard of one write; returns how many.</summary>
    /// <exception cref="JobValidationException">Field <c>volume</c>: not a volume name.</exception>
    public int DeleteWrite(string volume, Guid write)
    {
        var folder = Path.Combine(Root, VolumeNames.CheckName(volume), write.ToString("N"));
        if (!Directory.Exists(folder))
            return 0;
        var deleted = Directory.EnumerateFiles(folder).Count(TryDelete);
        try
        {
            Directory.Delete(folder, recursive: true);
        }
        catch (IOException)
        {
            // a write racing in; its shards stay until the next collection
        }

        return deleted;
    }

    /// <summary>Writes of <paramref name="volume"/> this store holds shards of.</summary>
    public IReadOnlyList<Guid> ListWrites(string volume)
    {
        var folder = Path.Combine(Root, VolumeNames.CheckName(volume));
        return Directory.Exists(folder)
            ? Directory.EnumerateDirectories(folder).Select(Path.GetFileName).Select(name => Guid.TryParseExact(name, "N", out var id) ? id : Guid.Empty).Where(id => id != Guid.Empty).ToList()
            : [];
    }

    /// <summary>Bytes and shards held and the disk's free space.</summary>
    public ShardStoreUsage Usage() => new(Interlocked.Read(ref _bytes), Interlocked.Read(ref _shards), new DriveInfo(Root).AvailableFreeSpace);

    private bool TryDelete(string path)
    {
        try
        {
            var length = new FileInfo(path).Length;
            File.Delete(path);
            Interlocked.Add(ref _bytes, -(length - HeaderBytes));
            Interlocked.Decrement(ref _shards);
            return true;
        }
        catch (FileNotFoundException)
        {
            return false;
        }
        catch (DirectoryNotFoundException)
        {
            return false;
        }
    }

    private async Task<(ShardReadStatus Status, byte[] Payload, string? Detail)> ReadVerifiedAsync(string shard, CancellationToken cancellationToken)
    {
        FileStream file;
        try
        {
            file = new FileStream(PathOf(shard), FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1, FileOptions.Asynchronous);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return (ShardReadStatus.Missing, [], null);
        }

        await using (file)
        {
            // Header and payload read straight into their own arrays: a shard is read once and never copied.
            var header = new byte[HeaderBytes];
            if (file.Length < HeaderBytes || await file.ReadAtLeastAsync(header, HeaderBytes, throwOnEndOfStream: false, cancellationToken) < HeaderBytes || !header.AsSpan(0, 8).SequenceEqual(Magic))
                return (ShardReadStatus.Corrupt, [], "bad header");
            var length = BinaryPrimitives.ReadInt64LittleEndian(header.AsSpan(8));
            if (length != file.Length - HeaderBytes)
                return (ShardReadStatus.Corrupt, [], $"length {file.Length - HeaderBytes} bytes, header says {length}");
            var payload = new byte[length];
            if (await file.ReadAtLeastAsync(payload, payload.Length, throwOnEndOfStream: false, cancellationToken) < payload.Length)
                return (ShardReadStatus.Corrupt, [], "shorter than its header says");
            if (!XxHash128.Hash(payload).AsSpan().SequenceEqual(header.AsSpan(16, 16)))
                return (ShardReadStatus.Corrupt, [], "checksum mismatch");
            return (ShardReadStatus.Ok, payload, null);
        }
    }
}
