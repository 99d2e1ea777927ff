using System.Threading.Channels;
using PoolAI.Jobs;

namespace PoolAI.Client.Sdk;

/// <summary>
/// Receives a job's updates as an <see cref="IJobObserver"/> and turns them into ordered text with
/// <see cref="OffsetText"/>: updates are one-way messages and may arrive out of order.
/// </summary>
internal sealed class JobWatcher : IJobObserver
{
    private readonly Channel<JobUpdate> _updates = Channel.CreateUnbounded<JobUpdate>(new UnboundedChannelOptions { SingleReader = true });
    private readonly OffsetText _text = new();

    /// <inheritdoc />
    public Task OnUpdateAsync(JobUpdate update)
    {
        _updates.Writer.TryWrite(update);
        return Task.CompletedTask;
    }

    /// <summary>Updates in arrival order.</summary>
    public ChannelReader<JobUpdate> Updates => _updates.Reader;

    /// <summary>Places text at <paramref name="offset"/>; returns the newly contiguous text (possibly empty).</summary>
    public string Accept(int offset, string text) => _text.Accept(offset, text);
}
