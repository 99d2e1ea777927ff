using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Streams;
using PoolAI.Placement;
using PoolAI.Storage;
using PoolAI.Workers;

namespace PoolAI.Rewards;

/// <summary>
/// One worker's reward ledger on a coordinator silo. <see cref="LedgerBook"/> decides; this grain persists every
/// change before it answers, then publishes new entries on the rewards stream (a publish that fails is retried with
/// the next entry, and the leaderboard fills gaps from <see cref="GetEntriesAfterAsync"/>). At
/// <see cref="RewardOptions.SuspicionLimit"/> suspicions it pauses the worker, naming the reasons.
/// </summary>
[CoordinatorFilter]
public sealed partial class RewardLedgerGrain(
    [PersistentState("ledger", PoolKeys.Storage)] IPersistentState<LedgerState> state,
    IOptions<RewardOptions> options,
    TimeProvider time,
    ILogger<RewardLedgerGrain> logger) : Grain, IRewardLedgerGrain
{
    private readonly SerializedWrites<LedgerState> _writes = new(state);
    private LedgerBook? _book;

    private string Worker => this.GetPrimaryKeyString();

    private LedgerBook Book => _book ??= new LedgerBook(Worker, state.State, new RewardFormula(options.Value));

    /// <inheritdoc />
    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        // An entry stored just before a crash may not have reached the stream: publish what is missing.
        if (state.State.Published < state.State.Entries.Count)
            await PublishAsync();
    }

    /// <inheritdoc />
    public async Task<RewardEntry> CreditAsync(CreditRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (Book.CreditOf(request.JobId) is { } existing)
            return existing;
        var formula = new RewardFormula(options.Value);
        var median = await GrainFactory.GetGrain<IThroughputMedianGrain>(ThroughputMedianGrain.Key(request.Model, request.Device)).ObserveAsync(request.TokensPerSecond);
        if (Book.CreditOf(request.JobId) is { } raced)
            return raced; // credited while we asked for the median
        var speed = formula.SpeedFactor(request.TokensPerSecond, median);
        var now = time.GetUtcNow();
        if (formula.Implausible(request.TokensPerSecond, median))
        {
            speed = Math.Min(speed, 1.0);
            Book.Suspect(request.JobId, $"implausible throughput: {request.TokensPerSecond:0.#} tokens/s is over {options.Value.ImplausibleSpeedup:0.#}× the pool median of {median:0.#} for {request.Model} on {request.Device}", now);
        }

        var (entry, _) = Book.Credit(request, speed, now);
        await _writes.WriteAsync();
        LogCredited(Worker, request.JobId, entry.Total, entry.Sequence);
        await PublishAsync();
        await PauseIfDistrustedAsync();
        return entry;
    }

    /// <inheritdoc />
    public async Task<RewardEntry> CreditStorageAsync(StorageCredit credit)
    {
        ArgumentNullException.ThrowIfNull(credit);
        var (entry, added) = Book.CreditStorage(credit);
        if (!added)
            return entry;
        await _writes.WriteAsync();
        LogCredited(Worker, credit.PeriodId, entry.Total, entry.Sequence);
        await PublishAsync();
        return entry;
    }

    /// <inheritdoc />
    public async Task RecordFailureAsync(Guid jobId, int attempt, string reason)
    {
        if (Book.Fail(jobId, attempt))
            await _writes.WriteAsync();
    }

    /// <inheritdoc />
    public async Task RecordSuspicionAsync(Guid jobId, string reason)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(reason);
        Book.Suspect(jobId, reason.Length > 500 ? reason[..500] : reason, time.GetUtcNow());
        state.State.Streak = 0;
        await _writes.WriteAsync();
        await PauseIfDistrustedAsync();
    }

    /// <inheritdoc />
    public async Task<RewardEntry?> RecordVerificationAsync(Guid jobId, bool passed, string detail)
    {
        var (recorded, correction) = Book.Verify(jobId, passed, detail, time.GetUtcNow());
        if (!recorded)
            return null;
        await _writes.WriteAsync();
        if (correction is not null)
            LogCorrected(Worker, correction.Corrects ?? 0, correction.Total, correction.Reason);
        await PublishAsync();
        await PauseIfDistrustedAsync();
        return correction;
    }

    /// <inheritdoc />
    public async Task<RewardEntry> CorrectAsync(long sequence, string reason, decimal? amount = null)
    {
        var correction = Book.Correct(sequence, amount, reason, time.GetUtcNow());
        await _writes.WriteAsync();
        LogCorrected(Worker, sequence, correction.Total, reason);
        await PublishAsync();
        return correction;
    }

    /// <inheritdoc />
    public Task<RewardSummary> GetSummaryAsync() => Task.FromResult(Book.Summary(time.GetUtcNow()));

    /// <inheritdoc />
    public Task<RewardHistoryPage> GetHistoryAsync(DateTimeOffset? before, int limit) =>
        Task.FromResult(Book.History(before ?? DateTimeOffset.MaxValue, limit));

    /// <inheritdoc />
    public Task<IReadOnlyList<RewardEntry>> GetEntriesAfterAsync(long sequence, int limit) =>
        Task.FromResult(Book.After(sequence, limit));

    /// <summary>Publishes the entries not yet on the stream, oldest first; a failure leaves them for the next time.</summary>
    private async Task PublishAsync()
    {
        var stream = this.GetStreamProvider(PoolStreams.Provider)
            .GetStream<RewardEntry>(StreamId.Create(PoolStreams.Rewards, ILeaderboardGrain.Key));
        try
        {
            while (state.State.Published < state.State.Entries.Count)
            {
                await stream.OnNextAsync(state.State.Entries[(int)state.State.Published]);
                state.State.Published++;
            }
        }
        catch (Exception ex)
        {
            LogPublishFailed(Worker, ex);
        }
        // Published is persisted with the next change; republishing after a crash is harmless (the leaderboard dedupes by sequence).
    }

    private async Task PauseIfDistrustedAsync()
    {
        var suspicions = state.State.Suspicions;
        if (suspicions.Count < options.Value.SuspicionLimit || suspicions.Count <= state.State.PausedAtSuspicions)
            return;
        var reasons = string.Join("; ", suspicions.TakeLast(options.Value.SuspicionLimit).Select(s => s.Reason));
        var message = $"paused after {suspicions.Count} suspicions: {reasons}";
        await GrainFactory.GetGrain<IWorkerGrain>(Worker).SetStatusAsync(WorkerStatus.Paused, message);
        state.State.PausedAtSuspicions = suspicions.Count;
        await _writes.WriteAsync();
        LogPaused(Worker, message);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Worker {Worker} credited {Total} for job {JobId} (entry {Sequence})")]
    private partial void LogCredited(string worker, Guid jobId, decimal total, long sequence);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Worker {Worker}: entry {Sequence} corrected by {Total}: {Reason}")]
    private partial void LogCorrected(string worker, long sequence, decimal total, string? reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Worker {Worker} {Message}")]
    private partial void LogPaused(string worker, string message);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not publish reward entries of worker {Worker}; they go with the next entry")]
    private partial void LogPublishFailed(string worker, Exception exception);
}
