namespace PoolAI.Silo.Hosting;

/// <summary>
/// The clock of Orleans' membership services and silo watchdog (the keyed service <see cref="Key"/>): the clock it
/// wraps, with timestamps counted from when this clock was made — as the silo is built — instead of from when the
/// machine booted. Intervals, times and timers are the wrapped clock's.
/// </summary>
/// <remarks>
/// Orleans 10's silo watchdog (<c>Watchdog.Start</c>) starts its platform-check thread before it sets the timestamp
/// of its last component check. When that thread runs first — at silo start on a machine with few cores, nearly always
/// — it reads the unset timestamp, 0, and warns "Participant check thread has not completed for [the machine's uptime],
/// potentially indicating lock contention or deadlock", and records that stall in the silo's health history, although
/// nothing stalled. Counted from this clock's start, that unset reading is the time since the silo was built (well
/// under a second), below the warning's threshold (twice <c>ClusterMembershipOptions.LocalHealthDegradationMonitoringPeriod</c>,
/// 20 s). Every membership service takes its timestamps from this one clock, so they stay comparable.
/// </remarks>
/// <param name="clock">The clock to follow, normally <see cref="TimeProvider.System"/>.</param>
public sealed class MembershipClock(TimeProvider clock) : TimeProvider
{
    /// <summary>The service key under which Orleans' membership services and watchdog ask for their clock.</summary>
    public const string Key = "Orleans.Membership";

    // One tick before now, so that no timestamp of this clock is 0.
    private readonly long _origin = clock.GetTimestamp() - 1;

    /// <inheritdoc />
    public override long GetTimestamp() => clock.GetTimestamp() - _origin;

    /// <inheritdoc />
    public override long TimestampFrequency => clock.TimestampFrequency;

    /// <inheritdoc />
    public override DateTimeOffset GetUtcNow() => clock.GetUtcNow();

    /// <inheritdoc />
    public override TimeZoneInfo LocalTimeZone => clock.LocalTimeZone;

    /// <inheritdoc />
    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period) =>
        clock.CreateTimer(callback, state, dueTime, period);
}
