using System.Threading.Channels;
using PoolAI.Jobs;

namespace PoolAI.Client.Sdk;

/// <summary>
/// Receives a job's updates as an <see cref="IJobObserver"/> and turns them into ordered text: updates
/// may arrive out of order (they are one-way messages), so pieces are placed by their offset and
/// released only when everything before them is known.
/// </summary>
internal sealed class JobWatcher : IJobObserver
{
    private readonly Channel<JobUpdate> _updates = Channel.CreateUnbounded<JobUpdate>(new UnboundedChannelOptions { SingleReader = true });
    private readonly SortedDictionary<int, string> _early = [];
    private int _known;

    /// <summary>Text released so far.</summary>
    public int Released => _known;

    /// <inheritdoc />
    public Task OnUpdateAsync(JobUpdate update)
    {
        _updates.Writer.TryWrite(update);
        return Task.CompletedTask;
    }

    /// <summary>Updates in arrival order.</summary>
    public ChannelReader<JobUpdate> Updates => _updates.Reader;

    /// <summary>Places text at <paramref name="offset"/>; returns the newly contiguous text (possibly empty).</summary>
    public string Accept(int offset, string text)
    {
        if (text.Length == 0)
            return string.Empty;
        if (offset > _known)
        {
            _early[offset] = text;
            return string.Empty;
        }

        var released = new System.Text.StringBuilder();
        Take(offset, text, released);
        while (_early.Count > 0 && _early.First() is var next && next.Key <= _known)
        {
            _early.Remove(next.Key);
            Take(next.Key, next.Value, released);
        }

        return released.ToString();
    }

    private void Take(int offset, string text, System.Text.StringBuilder released)
    {
        var skip = _known - offset;
        if (skip >= text.Length)
            return;
        released.Append(text, skip, text.Length - skip);
        _known += text.Length - skip;
    }
}
