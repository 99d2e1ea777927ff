using System.Buffers;

namespace PoolAI.Volumes.Coding;

/// <summary>Pins shard buffers for the duration of one encode or decode and unpins them all on <see cref="Dispose"/>.</summary>
internal sealed unsafe class ShardPins(int capacity) : IDisposable
{
    private readonly MemoryHandle[] _handles = ArrayPool<MemoryHandle>.Shared.Rent(capacity);
    private int _count;

    /// <summary>Pins <paramref name="memory"/> and returns the address of its first byte.</summary>
    public byte* Pin(ReadOnlyMemory<byte> memory)
    {
        var handle = memory.Pin();
        _handles[_count++] = handle;
        return (byte*)handle.Pointer;
    }

    /// <summary>Unpins every buffer pinned so far.</summary>
    public void Dispose()
    {
        for (var i = 0; i < _count; i++)
            _handles[i].Dispose();
        Array.Clear(_handles, 0, _count);
        _count = 0;
        ArrayPool<MemoryHandle>.Shared.Return(_handles);
    }
}
