namespace PoolAI.Volumes;

/// <summary>
/// Reads a range of one file version as a stream, a stripe at a time with a few stripes read ahead, so a file of any
/// size is never held in memory. Each stripe comes from its data shards when they are good, else is reconstructed
/// from any K good shards (a degraded read); shards found missing or corrupt are reported to the volume, which
/// repairs them. A stripe with fewer than K good shards because stores were unreachable is tried again for about 15 s
/// (a miner reconnecting); one that still has fewer than K fails the read with <see cref="IOException"/>.
/// </summary>
public sealed class VolumeReadStream : Stream
{
    private readonly FileLayout _file;
    private readonly StripeIo _io;
    private readonly IVolumeGrain _volume;
    private readonly Func<string, bool>? _alive;
    private readonly List<(Guid Write, StripeRecord Stripe, long Start)> _plan = [];
    private readonly Queue<Task<byte[]>> _ahead = new();
    private readonly int _readAhead;
    private readonly long _end;
    private int _next;
    private byte[]? _current;
    private long _currentStart;
    private long _position;

    internal VolumeReadStream(IGrainFactory grains, IVolumeGrain volume, string name, FileLayout file, long offset, long length, Func<string, bool>? alive, int readAhead)
    {
        _file = file;
        _volume = volume;
        _alive = alive;
        _readAhead = readAhead;
        _io = new StripeIo(grains, name, file.Layout, file.DataKey)
        {
            DataToken = file.DataToken,
            Endpoints = file.DataEndpoints is { Count: > 0 } endpoints ? store => endpoints.GetValueOrDefault(store) : null,
        };
        _position = offset;
        _end = offset + length;
        long start = 0;
        foreach (var extent in file.Extents)
        {
            foreach (var stripe in extent.Stripes)
            {
                if (start + stripe.DataBytes > offset && start < _end)
                    _plan.Add((extent.Write, stripe, start));
                start += stripe.DataBytes;
            }
        }
    }

    /// <summary>The file.</summary>
    public VolumeFile File => _file.File;

    /// <summary>Shards found missing or corrupt so far (each reported to the volume).</summary>
    public List<ShardDamage> Damage { get; } = [];

    /// <inheritdoc />
    public override bool CanRead => true;

    /// <inheritdoc />
    public override bool CanSeek => false;

    /// <inheritdoc />
    public override bool CanWrite => false;

    /// <inheritdoc />
    public override long Length => _end;

    /// <inheritdoc />
    public override long Position { get => _position; set => throw new NotSupportedException(); }

    /// <inheritdoc />
    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_position >= _end || buffer.Length == 0)
            return 0;
        if (_current is null || _position >= _currentStart + _current.Length)
        {
            while (_ahead.Count < _readAhead && _next < _plan.Count)
            {
                var (write, stripe, start) = _plan[_next++];
                _ahead.Enqueue(Task.Run(() => ReadStripeAsync(write, stripe, start), CancellationToken.None));
            }

            var index = _next - _ahead.Count;
            _current = await _ahead.Dequeue().WaitAsync(cancellationToken);
            _currentStart = _plan[index].Start;
        }

        var from = (int)(_position - _currentStart);
        var count = (int)Math.Min(Math.Min(buffer.Length, _current.Length - from), _end - _position);
        _current.AsSpan(from, count).CopyTo(buffer.Span);
        _position += count;
        return count;
    }

    /// <inheritdoc />
    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <inheritdoc />
    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    /// <inheritdoc />
    public override void Flush()
    {
    }

    /// <inheritdoc />
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    /// <inheritdoc />
    public override void SetLength(long value) => throw new NotSupportedException();

    /// <inheritdoc />
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    /// <inheritdoc />
    public override async ValueTask DisposeAsync()
    {
        while (_ahead.Count > 0)
            await ((Task)_ahead.Dequeue()).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        await base.DisposeAsync();
    }

    private async Task<byte[]> ReadStripeAsync(Guid write, StripeRecord stripe, long start)
    {
        var damage = new List<ShardDamage>();
        var data = await _io.ReadStripeAsync(write, stripe, damage, _alive);
        // Too few shards because stores were unreachable (an open miner reconnecting, a silo restarting), not corrupt:
        // try again for a while before giving up, asking every store again.
        for (var wait = 0.5; data is null && wait <= 8 && damage.Any(d => d.Status == ShardReadStatus.Missing); wait *= 2)
        {
            await Task.Delay(TimeSpan.FromSeconds(wait));
            damage.Clear();
            data = await _io.ReadStripeAsync(write, stripe, damage, alive: null);
        }

        if (damage.Count > 0)
        {
            lock (Damage)
                Damage.AddRange(damage);
            _ = _volume.ReportDamageAsync(damage);
        }

        return data ?? throw new IOException($"{_file.File.Path}: stripe {stripe.Index} of write {write:N} (bytes {start}–{start + stripe.DataBytes - 1}) has fewer than {_file.Layout.DataShards} good shards: {string.Join("; ", damage.Select(d => $"shard {d.Shard} on {d.Store}: {d.Detail}"))}");
    }
}
