using Microsoft.Extensions.Logging;

namespace PoolAI.Jobs;

/// <summary>
/// A job queue's upkeep, on the queue grain's turns (its timers call it):
/// <list type="bullet">
/// <item><b>Recovery.</b> When the queue activates (a coordinator starts, see <see cref="QueueRecovery"/>) it wakes every
/// job it counts as running, so a job whose activation died with a coordinator notices and comes back; every
/// <see cref="ExpirySweep"/> it wakes waiting jobs whose time to live has ended, so they end <c>Expired</c> even when
/// nothing else activates them; every <see cref="JobOptions.RunningAudit"/> (15 s by default) it wakes the jobs it has
/// counted as running since the last audit, so a slot whose release was lost, or a job whose requeue was lost, is set
/// right within two periods.</item>
/// <item><b>Parking.</b> A job still waiting <see cref="ParkAfter"/> after it was enqueued is told to deactivate if nobody
/// waits on or watches it (<see cref="IJobGrain.ParkAsync"/>); its entry in the queue is all a waiting job needs, and
/// the start activates it again. A backlog of a hundred thousand jobs so costs entries and stored rows, not
/// activations; a job that starts within that time costs nothing extra.</item>
/// </list>
/// </summary>
/// <param name="book">The queue's jobs and slots.</param>
/// <param name="grains">To call the jobs.</param>
/// <param name="time">The clock.</param>
/// <param name="slotFreed">Called when a wake found a slot free that the queue counted as taken (store it, dispatch).</param>
/// <param name="logger">Where failed wakes are logged.</param>
internal sealed partial class QueueUpkeep(QueueBook book, IGrainFactory grains, TimeProvider time, Action slotFreed, ILogger logger)
{
    /// <summary>How often the queue looks for waiting jobs whose time to live has ended, and parks jobs that have waited <see cref="ParkAfter"/>.</summary>
    public static readonly TimeSpan ExpirySweep = TimeSpan.FromSeconds(1);

    /// <summary>How long a job waits before its queue parks it.</summary>
    public static readonly TimeSpan ParkAfter = TimeSpan.FromSeconds(1);

    private readonly Queue<(Guid JobId, DateTimeOffset At)> _parking = new();
    private HashSet<Guid> _audited = [];

    /// <summary><paramref name="jobId"/> (re)joined the waiting jobs: park it if it is still waiting <see cref="ParkAfter"/> from now.</summary>
    public void Waiting(Guid jobId) => _parking.Enqueue((jobId, time.GetUtcNow()));

    /// <summary>Every <see cref="ExpirySweep"/>: parks jobs that have waited long enough and wakes expired ones.</summary>
    public void Sweep()
    {
        var before = time.GetUtcNow() - ParkAfter;
        while (_parking.TryPeek(out var next) && next.At <= before)
        {
            _parking.Dequeue();
            if (book.Pending.Contains(next.JobId))
                grains.Reference<IJobGrain>(next.JobId).ParkAsync().Ignore();
        }

        _ = WakeAsync(() =>
        {
            var now = time.GetUtcNow();
            return book.Pending.All.Where(j => j.ExpiresAt != default && j.ExpiresAt <= now).Select(j => j.JobId);
        });
    }

    /// <summary>Every running audit: wakes the jobs counted as running since the last audit (and not being started).</summary>
    public void Audit()
    {
        var suspects = book.Running.Keys.Where(id => _audited.Contains(id) && !book.Starting.Contains(id)).ToList();
        _audited = [.. book.Running.Keys];
        if (suspects.Count > 0)
            _ = WakeAsync(() => suspects);
    }

    /// <summary>When the queue activates: wakes every job it counts as running.</summary>
    public void WakeRunning() => _ = WakeAsync(() => book.Running.Keys);

    /// <summary>
    /// Activates each job in turn, outside the calling turn (a job calls back into the queue as it activates): a job
    /// whose attempt died with its activation requeues itself, a job whose time to live has ended expires and
    /// leaves the queue, and a job that finished without releasing its slot (a crash in between) gives it back.
    /// </summary>
    private async Task WakeAsync(Func<IEnumerable<Guid>> jobs)
    {
        await Task.Yield();
        foreach (var jobId in jobs().ToList())
        {
            try
            {
                var view = await grains.Reference<IJobGrain>(jobId).WakeAsync();
                if (view.Status.IsFinal())
                    FreeIfCounted(jobId); // it finished but its release was lost with a crash
            }
            catch (KeyNotFoundException)
            {
                FreeIfCounted(jobId); // no such job (its record is gone): nothing runs on the slot it was counted on
            }
            catch (Exception ex)
            {
                LogWakeFailed(jobId, ex);
            }
        }
    }

    private void FreeIfCounted(Guid jobId)
    {
        if (!book.Starting.Contains(jobId) && book.StopRunning(jobId))
            slotFreed();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not wake job {JobId}")]
    private partial void LogWakeFailed(Guid jobId, Exception exception);
}
