namespace PoolAI.Rewards;

/// <summary>The leaderboard's persisted state (state name <c>leaderboard</c>).</summary>
[GenerateSerializer, Alias("poolai.LeaderboardState")]
public sealed class LeaderboardState
{
    /// <summary>Per worker: what it earned, by UTC day and in all.</summary>
    [Id(0)] public Dictionary<string, WorkerTally> Workers { get; set; } = [];
}

/// <summary>One worker's earnings as the leaderboard counts them.</summary>
[GenerateSerializer, Alias("poolai.WorkerTally")]
public sealed class WorkerTally
{
    /// <summary>Sequence of the worker's last ledger entry counted; entries come in sequence order.</summary>
    [Id(0)] public long LastSequence { get; set; }

    /// <summary>Net credits since the pool started.</summary>
    [Id(1)] public decimal All { get; set; }

    /// <summary>Credits (jobs) since the pool started.</summary>
    [Id(2)] public int JobsAll { get; set; }

    /// <summary>Net credits and jobs per UTC day, for the last <see cref="LeaderboardBook.DaysKept"/> days.</summary>
    [Id(3)] public Dictionary<DateOnly, DayTally> Days { get; set; } = [];
}

/// <summary>One UTC day of a worker.</summary>
[GenerateSerializer, Immutable, Alias("poolai.DayTally")]
public sealed record DayTally([property: Id(0)] decimal Earned, [property: Id(1)] int Jobs);

/// <summary>
/// Leaderboard rules without Orleans: counts each worker's entries once, in sequence order, and ranks workers by net
/// credits over a period. An entry whose sequence skips ahead is not counted until the missed ones are
/// (<see cref="Missing"/>).
/// </summary>
public sealed class LeaderboardBook(LeaderboardState state)
{
    /// <summary>Days of per-day tallies kept (the longest period is 30 days).</summary>
    public const int DaysKept = 31;

    /// <summary>The sequence after which entries of the worker of <paramref name="entry"/> are needed before it can count; null when none is missing.</summary>
    public long? Missing(RewardEntry entry)
    {
        var last = state.Workers.TryGetValue(entry.Worker, out var tally) ? tally.LastSequence : 0;
        return entry.Sequence > last + 1 ? last : null;
    }

    /// <summary>Counts <paramref name="entry"/>; false when it was counted before or an earlier one is missing.</summary>
    public bool Apply(RewardEntry entry, DateTimeOffset now)
    {
        if (!state.Workers.TryGetValue(entry.Worker, out var tally))
            state.Workers[entry.Worker] = tally = new WorkerTally();
        if (entry.Sequence != tally.LastSequence + 1)
            return false;
        tally.LastSequence = entry.Sequence;
        var jobs = entry.Kind == RewardEntryKind.Credit ? 1 : 0;
        tally.All += entry.Total;
        tally.JobsAll += jobs;
        var day = DateOnly.FromDateTime(entry.At.UtcDateTime);
        var cutoff = Today(now).AddDays(-(DaysKept - 1));
        if (day >= cutoff)
        {
            var before = tally.Days.GetValueOrDefault(day) ?? new DayTally(0, 0);
            tally.Days[day] = new DayTally(before.Earned + entry.Total, before.Jobs + jobs);
        }

        foreach (var old in tally.Days.Keys.Where(d => d < cutoff).ToList())
            tally.Days.Remove(old);
        return true;
    }

    /// <summary>The top <paramref name="top"/> workers by net credits in <paramref name="period"/> as of <paramref name="now"/> (ties: more jobs, then worker id).</summary>
    /// <exception cref="ArgumentOutOfRangeException">Top outside 1–1000 or unknown period.</exception>
    public IReadOnlyList<LeaderboardRow> Top(LeaderboardPeriod period, int top, DateTimeOffset now)
    {
        if (top is < 1 or > 1000)
            throw new ArgumentOutOfRangeException(nameof(top), top, "top must be between 1 and 1000");
        int? days = period switch
        {
            LeaderboardPeriod.Day => 1,
            LeaderboardPeriod.Week => 7,
            LeaderboardPeriod.Month => 30,
            LeaderboardPeriod.All => null,
            _ => throw new ArgumentOutOfRangeException(nameof(period), period, "period must be day, week, month or all"),
        };
        var from = days is { } d ? Today(now).AddDays(-(d - 1)) : DateOnly.MinValue;
        return state.Workers
            .Select(w => days is null
                ? (Worker: w.Key, Earned: w.Value.All, Jobs: w.Value.JobsAll)
                : (Worker: w.Key, Earned: w.Value.Days.Where(x => x.Key >= from).Sum(x => x.Value.Earned), Jobs: w.Value.Days.Where(x => x.Key >= from).Sum(x => x.Value.Jobs)))
            .Where(w => w.Jobs > 0 || w.Earned != 0)
            .OrderByDescending(w => w.Earned).ThenByDescending(w => w.Jobs).ThenBy(w => w.Worker, StringComparer.Ordinal)
            .Take(top)
            .Select((w, i) => new LeaderboardRow(i + 1, w.Worker, w.Earned, w.Jobs))
            .ToList();
    }

    private static DateOnly Today(DateTimeOffset now) => DateOnly.FromDateTime(now.UtcDateTime);
}
