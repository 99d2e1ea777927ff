namespace PoolAI.Jobs;

/// <summary>
/// A queue's view of serving capacity: the units (<see cref="ServingSilo"/>) that serve its model, the slots each
/// declares and the jobs the queue placed on each. <see cref="Pick"/> returns the unit with the most free slots (ties:
/// the one running fewer, then the one given a job least recently, so equal units take turns) that accepts the job, from a sorted set: O(log m) for a job that may run
/// anywhere, for m units, instead of sorting every unit per start.
/// </summary>
public sealed class SlotBook
{
    private readonly Dictionary<string, int> _used = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _lastTaken = new(StringComparer.Ordinal);
    private long _clock;
    private readonly Dictionary<string, Entry> _units = new(StringComparer.Ordinal);
    private readonly SortedSet<Entry> _byFree = new(Comparer<Entry>.Create(static (a, b) =>
    {
        var byFree = b.Free.CompareTo(a.Free);
        if (byFree != 0)
            return byFree;
        var byUsed = a.Used.CompareTo(b.Used);
        if (byUsed != 0)
            return byUsed;
        var byTurn = a.LastTaken.CompareTo(b.LastTaken);
        return byTurn != 0 ? byTurn : string.CompareOrdinal(a.Unit.Key, b.Unit.Key);
    }));

    private IReadOnlyList<ServingSilo> _current = [];

    /// <summary>Slots the current units declare together.</summary>
    public int TotalSlots { get; private set; }

    /// <summary>The current units.</summary>
    public IReadOnlyList<ServingSilo> Units => _current;

    /// <summary>Takes <paramref name="units"/> as the current capacity; the sorted view is rebuilt only when they changed.</summary>
    public void Sync(IReadOnlyList<ServingSilo> units)
    {
        if (ReferenceEquals(units, _current) || (units.Count == _current.Count && units.SequenceEqual(_current)))
            return;
        _current = units;
        _units.Clear();
        _byFree.Clear();
        TotalSlots = 0;
        foreach (var unit in units)
        {
            if (_units.ContainsKey(unit.Key))
                continue;
            var used = _used.GetValueOrDefault(unit.Key);
            var entry = new Entry(unit, unit.Slots - used, used, _lastTaken.GetValueOrDefault(unit.Key));
            _units[unit.Key] = entry;
            _byFree.Add(entry);
            TotalSlots += unit.Slots;
        }
    }

    /// <summary>The unit that should run <paramref name="job"/> now, or null when no unit that accepts it has a free slot.</summary>
    public ServingSilo? Pick(QueuedJob job)
    {
        foreach (var entry in _byFree)
        {
            if (entry.Free <= 0)
                return null;
            if (entry.Unit.Accepts(job))
                return entry.Unit;
        }

        return null;
    }

    /// <summary>True when some current unit accepts <paramref name="job"/>, free or not.</summary>
    public bool AnyAccepts(QueuedJob job) => _current.Any(unit => unit.Accepts(job));

    /// <summary>Counts one more job on the unit keyed <paramref name="unitKey"/> (which need not be a current unit).</summary>
    public void Take(string unitKey)
    {
        _lastTaken[unitKey] = ++_clock;
        Change(unitKey, +1);
    }

    /// <summary>Counts one job less on <paramref name="unitKey"/>.</summary>
    public void Free(string unitKey) => Change(unitKey, -1);

    /// <summary>Forgets every count (the current units stay).</summary>
    public void Reset()
    {
        _used.Clear();
        var units = _current;
        _current = [];
        Sync(units);
    }

    private void Change(string unitKey, int delta)
    {
        var used = Math.Max(0, _used.GetValueOrDefault(unitKey) + delta);
        if (used == 0)
            _used.Remove(unitKey);
        else
            _used[unitKey] = used;
        if (_units.TryGetValue(unitKey, out var entry))
        {
            _byFree.Remove(entry);
            var updated = new Entry(entry.Unit, entry.Unit.Slots - used, used, _lastTaken.GetValueOrDefault(unitKey));
            _units[unitKey] = updated;
            _byFree.Add(updated);
        }
    }

    private sealed record Entry(ServingSilo Unit, int Free, int Used, long LastTaken);
}
