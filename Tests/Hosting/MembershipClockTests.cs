using Microsoft.Extensions.Time.Testing;
using PoolAI.Silo.Hosting;

namespace PoolAI.Tests.Hosting;

[TestClass]
public sealed class MembershipClockTests
{
    // A machine clock whose timestamps count from long ago, as a machine's count from its boot.
    private readonly FakeTimeProvider _machine = new(new DateTimeOffset(2026, 12, 1, 8, 0, 0, TimeSpan.Zero));

    [TestMethod]
    public void ATimestampNeverSetReadsAsTheTimeSinceTheSiloWasBuiltNotSinceTheMachineBooted()
    {
        var clock = new MembershipClock(_machine);
        _machine.Advance(TimeSpan.FromSeconds(3));

        Assert.AreEqual(TimeSpan.FromSeconds(3) + TimeSpan.FromTicks(1), clock.GetElapsedTime(0));
    }

    [TestMethod]
    public void IntervalsTimesAndTimersAreTheMachineClocks()
    {
        var clock = new MembershipClock(_machine);
        var start = clock.GetTimestamp();
        var fired = 0;
        using var timer = clock.CreateTimer(_ => fired++, null, TimeSpan.FromSeconds(2), Timeout.InfiniteTimeSpan);

        _machine.Advance(TimeSpan.FromSeconds(2.5));

        Assert.AreEqual(TimeSpan.FromSeconds(2.5), clock.GetElapsedTime(start));
        Assert.AreEqual(_machine.GetUtcNow(), clock.GetUtcNow());
        Assert.AreEqual(1, fired);
    }
}
