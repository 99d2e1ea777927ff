namespace PoolAI.Jobs;

/// <summary>
/// A job's watchers and what they have been sent: the streamed output of the current attempt (ordered by offset, as
/// updates may arrive out of order) and its latest progress. Every update goes to every watcher one-way, so a slow
/// watcher never slows the job; a watcher that cannot be reached is dropped.
/// </summary>
public sealed class JobWatchers
{
    private readonly HashSet<IJobObserver> _observers = [];
    private readonly OffsetText _output = new();

    /// <summary>Watchers now.</summary>
    public int Count => _observers.Count;

    /// <summary>Characters of the current attempt's streamed output received in order so far.</summary>
    public int OutputLength => _output.Length;

    /// <summary>The current attempt's streamed output received in order so far.</summary>
    public string Output => _output.ToString();

    /// <summary>Adds a watcher.</summary>
    public void Add(IJobObserver observer) => _observers.Add(observer);

    /// <summary>Removes a watcher.</summary>
    public void Remove(IJobObserver observer) => _observers.Remove(observer);

    /// <summary>Starts a new attempt's output, or sets the output to a finished result's <paramref name="text"/>.</summary>
    public void ResetOutput(string text = "") => _output.Reset(text);

    /// <summary>Places a piece of output at <paramref name="offset"/>; returns the offset and text that became contiguous (possibly empty).</summary>
    public (int Offset, string Text) Accept(int offset, string text)
    {
        var before = _output.Length;
        return (before, _output.Accept(offset, text));
    }

    /// <summary>Sends <paramref name="update"/> to every watcher.</summary>
    public void Publish(JobUpdate update)
    {
        if (_observers.Count == 0)
            return;
        foreach (var observer in _observers.ToList())
        {
            try
            {
                observer.OnUpdateAsync(update).Ignore();
            }
            catch (Exception)
            {
                _observers.Remove(observer);
            }
        }
    }
}
