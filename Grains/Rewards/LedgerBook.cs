using PoolAI.Jobs;

namespace PoolAI.Rewards;

/// <summary>
/// The rules of one worker's ledger over its <see cref="LedgerState"/>, without Orleans: append-only entries, at most
/// one credit per job, corrections as new negative entries naming what they correct, and a balance that is always
/// the sum of the entries. <see cref="RewardLedgerGrain"/> persists and publishes what this decides.
/// </summary>
public sealed class LedgerBook(string worker, LedgerState state, RewardFormula formula)
{
    /// <summary>The state read and changed.</summary>
    public LedgerState State => state;

    /// <summary>The credit entry of <paramref name="jobId"/>, if paid.</summary>
    public RewardEntry? CreditOf(Guid jobId) =>
        state.Entries.FirstOrDefault(e => e.Kind == RewardEntryKind.Credit && e.JobId == jobId);

    /// <summary>
    /// Pays for a job at <paramref name="speedFactor"/>; returns the new entry, or the existing one (and false) when the
    /// job was paid before.
    /// </summary>
    /// <exception cref="ArgumentException">Work units not positive, throughput negative or not finite.</exception>
    public (RewardEntry Entry, bool Added) Credit(CreditRequest request, double speedFactor, DateTimeOffset now)
    {
        if (CreditOf(request.JobId) is { } existing)
            return (existing, false);
        if (request.WorkUnits <= 0)
            throw new ArgumentException($"WorkUnits must be positive; was {request.WorkUnits}", nameof(request));
        if (request.TokensPerSecond < 0 || !double.IsFinite(request.TokensPerSecond))
            throw new ArgumentException($"TokensPerSecond must be a finite number ≥ 0; was {request.TokensPerSecond}", nameof(request));
        var price = formula.Price(request.RatePerUnit ?? formula.BaseRate(request.JobKind, request.ModelParameters), request.WorkUnits, speedFactor, state.Quality, state.Streak);
        var entry = new RewardEntry(
            NextSequence, worker, RewardEntryKind.Credit, request.JobId, request.JobKind, request.Model, request.WorkUnits,
            price.Base, price.Speed, state.Quality, price.Streak, price.Total, now, TokensPerSecond: request.TokensPerSecond);
        Append(entry);
        state.Streak++;
        return (entry, true);
    }

    /// <summary>Pays for storage over one period; the existing entry (and false) when that period was paid before.</summary>
    /// <exception cref="ArgumentException">Byte-hours not positive and finite, or a negative rate.</exception>
    public (RewardEntry Entry, bool Added) CreditStorage(StorageCredit credit)
    {
        if (state.Entries.FirstOrDefault(e => e.Kind == RewardEntryKind.Storage && e.JobId == credit.PeriodId) is { } existing)
            return (existing, false);
        if (credit.ByteHours <= 0 || !double.IsFinite(credit.ByteHours))
            throw new ArgumentException($"ByteHours must be a finite number > 0; was {credit.ByteHours}", nameof(credit));
        if (credit.CreditsPerGbHour < 0)
            throw new ArgumentException($"CreditsPerGbHour must be ≥ 0; was {credit.CreditsPerGbHour}", nameof(credit));
        var total = Math.Round((decimal)(credit.ByteHours / 1e9) * credit.CreditsPerGbHour, 6, MidpointRounding.AwayFromZero);
        var entry = new RewardEntry(
            NextSequence, worker, RewardEntryKind.Storage, credit.PeriodId, JobKind.System, "volume:" + credit.Volume, (long)Math.Ceiling(credit.ByteHours / 1e6),
            total, 1, state.Quality, 0, total, credit.At, Reason: $"{credit.ByteHours / 1e9:0.######} GB-hours of shards held and audited");
        Append(entry);
        return (entry, true);
    }

    /// <summary>Records a failed attempt: the streak resets. False when this (job, attempt) was recorded before.</summary>
    public bool Fail(Guid jobId, int attempt)
    {
        if (!state.Failures.Add($"{jobId:N}/{attempt}"))
            return false;
        state.Streak = 0;
        return true;
    }

    /// <summary>
    /// Records a verification of the worker's output for <paramref name="jobId"/>. A failure resets the streak, lowers
    /// the quality factor, adds a suspicion and takes back what is left of the job's credit (the correction is
    /// returned). Null correction on a pass, on a repeat, or when the job was not paid.
    /// </summary>
    public (bool Recorded, RewardEntry? Correction) Verify(Guid jobId, bool passed, string detail, DateTimeOffset now)
    {
        if (!state.Verifications.TryAdd(jobId, passed))
            return (false, null);
        state.Quality = formula.NextQuality(state.Quality, passed);
        if (passed)
            return (true, null);
        state.Streak = 0;
        state.Suspicions.Add(new Suspicion(jobId, $"verification failed: {detail}", now));
        if (CreditOf(jobId) is not { } credit || Remaining(credit) <= 0)
            return (true, null);
        return (true, Correct(credit, Remaining(credit), $"verification failed: {detail}", now));
    }

    /// <summary>Adds a suspicion that is not a verification (implausible throughput, say).</summary>
    public void Suspect(Guid jobId, string reason, DateTimeOffset now) => state.Suspicions.Add(new Suspicion(jobId, reason, now));

    /// <summary>Takes back <paramref name="amount"/> (null: all that is left) of entry <paramref name="sequence"/> with a new negative entry.</summary>
    /// <exception cref="ArgumentException">No such entry, not a credit, amount not positive or more than is left.</exception>
    public RewardEntry Correct(long sequence, decimal? amount, string reason, DateTimeOffset now)
    {
        if (sequence < 1 || sequence > state.Entries.Count)
            throw new ArgumentException($"sequence must name an entry of worker {worker} (1–{state.Entries.Count}); was {sequence}", nameof(sequence));
        var entry = state.Entries[(int)sequence - 1];
        if (entry.Kind != RewardEntryKind.Credit)
            throw new ArgumentException($"sequence {sequence} is a correction; only credits can be corrected", nameof(sequence));
        if (string.IsNullOrWhiteSpace(reason))
            throw new ArgumentException("reason is required", nameof(reason));
        var left = Remaining(entry);
        var take = amount ?? left;
        if (take <= 0 || take > left)
            throw new ArgumentException($"amount must be positive and at most the {left} left of entry {sequence}; was {take}", nameof(amount));
        return Correct(entry, RewardFormula.Round(take), reason, now);
    }

    /// <summary>Balance, streak, trust and statistics as of <paramref name="now"/>.</summary>
    public RewardSummary Summary(DateTimeOffset now)
    {
        var credits = state.Entries.Where(e => e.Kind == RewardEntryKind.Credit).ToList();
        var failed = state.Failures.Count;
        var passed = state.Verifications.Count(v => v.Value);
        var notPassed = state.Verifications.Count - passed;
        var speeds = credits.Where(c => c.TokensPerSecond > 0).Select(c => c.TokensPerSecond).ToList();
        var since = DateOnly.FromDateTime(now.UtcDateTime).AddDays(-29);
        var perDay = state.Entries
            .GroupBy(e => DateOnly.FromDateTime(e.At.UtcDateTime))
            .Where(g => g.Key >= since)
            .OrderBy(g => g.Key)
            .Select(g => new DailyEarnings(g.Key, g.Sum(e => e.Total)))
            .ToList();
        var statistics = new RewardStatistics(
            credits.Count, failed, Rate(credits.Count, failed), passed, notPassed, Rate(passed, notPassed),
            speeds.Count > 0 ? speeds.Average() : 0, perDay);
        return new RewardSummary(
            worker, state.Balance, state.Entries.Count, state.Streak, formula.StreakLevel(state.Streak),
            formula.StreakBonus(state.Streak), formula.StreakToNextLevel(state.Streak), state.Quality,
            state.Suspicions.ToList(), statistics);
    }

    /// <summary>Entries made before <paramref name="before"/>, newest first, at most <paramref name="limit"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Limit outside 1–1000.</exception>
    public RewardHistoryPage History(DateTimeOffset before, int limit)
    {
        Limit(limit);
        // Entries are appended in time order: the newest before the cut-off is found by binary search.
        int lo = 0, hi = state.Entries.Count;
        while (lo < hi)
        {
            var mid = (lo + hi) / 2;
            if (state.Entries[mid].At < before)
                lo = mid + 1;
            else
                hi = mid;
        }

        var page = new List<RewardEntry>(Math.Min(limit, lo));
        for (var i = lo - 1; i >= 0 && page.Count < limit; i--)
            page.Add(state.Entries[i]);
        var next = lo - page.Count > 0 ? page[^1].At : (DateTimeOffset?)null;
        return new RewardHistoryPage(page, next);
    }

    /// <summary>Entries after <paramref name="sequence"/>, oldest first, at most <paramref name="limit"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Limit outside 1–1000.</exception>
    public IReadOnlyList<RewardEntry> After(long sequence, int limit)
    {
        Limit(limit);
        var from = (int)Math.Clamp(sequence, 0, state.Entries.Count);
        return state.Entries.Skip(from).Take(limit).ToList();
    }

    private long NextSequence => state.Entries.Count + 1;

    private decimal Remaining(RewardEntry credit) =>
        credit.Total + state.Entries.Where(e => e.Corrects == credit.Sequence).Sum(e => e.Total);

    private RewardEntry Correct(RewardEntry credit, decimal amount, string reason, DateTimeOffset now)
    {
        var correction = new RewardEntry(
            NextSequence, worker, RewardEntryKind.Correction, credit.JobId, credit.JobKind, credit.Model, 0, 0m, 1, 1, 0,
            -amount, now, credit.Sequence, reason);
        Append(correction);
        return correction;
    }

    private void Append(RewardEntry entry)
    {
        state.Entries.Add(entry);
        state.Balance += entry.Total;
    }

    private static double Rate(int good, int bad) => good + bad == 0 ? 0 : (double)good / (good + bad);

    private static void Limit(int limit)
    {
        if (limit is < 1 or > 1000)
            throw new ArgumentOutOfRangeException(nameof(limit), limit, "limit must be between 1 and 1000");
    }
}
