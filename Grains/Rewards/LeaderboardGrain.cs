using Microsoft.Extensions.Logging;
using Orleans.Streams;
using PoolAI.Placement;
using PoolAI.Storage;

namespace PoolAI.Rewards;

/// <summary>
/// The pool's leaderboard on a coordinator silo, subscribed implicitly to the rewards stream. Counts each entry once
/// per worker sequence; when an entry skips ahead (an event lost, or this grain's last write lost in a crash) it reads
/// the missed entries from that worker's ledger first. State is written at most once per <see cref="WriteInterval"/>:
/// what a crash loses is re-read from the ledgers the same way.
/// </summary>
[CoordinatorFilter]
[ImplicitStreamSubscription(PoolStreams.Rewards)]
public sealed partial class LeaderboardGrain(
    [PersistentState("leaderboard", PoolKeys.Storage)] IPersistentState<LeaderboardState> state,
    TimeProvider time,
    ILogger<LeaderboardGrain> logger) : Grain, ILeaderboardGrain
{
    /// <summary>Longest time between a counted entry and its being written.</summary>
    public static readonly TimeSpan WriteInterval = TimeSpan.FromSeconds(1);

    private readonly SerializedWrites<LeaderboardState> _writes = new(state);
    private LeaderboardBook? _book;
    private bool _dirty;

    private LeaderboardBook Book => _book ??= new LeaderboardBook(state.State);

    /// <inheritdoc />
    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        var stream = this.GetStreamProvider(PoolStreams.Provider)
            .GetStream<RewardEntry>(StreamId.Create(PoolStreams.Rewards, this.GetPrimaryKeyString()));
        await stream.SubscribeAsync((entry, _) => CountAsync(entry));
        this.RegisterGrainTimer(FlushAsync, WriteInterval, WriteInterval);
    }

    /// <inheritdoc />
    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken) => await FlushAsync();

    /// <inheritdoc />
    public Task<IReadOnlyList<LeaderboardRow>> GetTopAsync(LeaderboardPeriod period, int top) =>
        Task.FromResult(Book.Top(period, top, time.GetUtcNow()));

    private async Task CountAsync(RewardEntry entry)
    {
        var changed = false;
        if (Book.Missing(entry) is { } after)
        {
            try
            {
                var ledger = GrainFactory.GetGrain<IRewardLedgerGrain>(entry.Worker);
                while (Book.Missing(entry) is { } from)
                {
                    var missed = await ledger.GetEntriesAfterAsync(from, 1000);
                    var applied = missed.Count(e => Book.Apply(e, time.GetUtcNow()));
                    changed |= applied > 0;
                    if (applied == 0)
                        break;
                }
            }
            catch (Exception ex)
            {
                LogFillFailed(entry.Worker, after, ex);
                _dirty |= changed;
                return; // counted with the worker's next entry
            }
        }

        changed |= Book.Apply(entry, time.GetUtcNow());
        _dirty |= changed;
    }

    private async Task FlushAsync()
    {
        if (!_dirty)
            return;
        _dirty = false;
        await _writes.WriteAsync();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not read the ledger of worker {Worker} after entry {Sequence}; the leaderboard catches up with its next entry")]
    private partial void LogFillFailed(string worker, long sequence, Exception exception);
}
