using Orleans.Runtime;
using PoolAI.Execution;
using PoolAI.Jobs;

namespace PoolAI.Tests.Jobs;

[TestClass]
public sealed class JobLeaseTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);

    [TestMethod]
    public void ALeaseExpiresOnceAfterTheTimeoutWithoutRenewal()
    {
        var time = new ManualTime();
        var lease = new JobLease(time, Timeout);
        lease.Start();
        time.Advance(TimeSpan.FromSeconds(4));
        lease.Renew();
        time.Advance(TimeSpan.FromSeconds(5));
        Assert.IsFalse(lease.HasExpired(1), "renewed 5 s ago: exactly the timeout is still held");
        time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.IsTrue(lease.HasExpired(1));
        Assert.IsFalse(lease.HasExpired(1), "an expiry is reported once per attempt");
        Assert.IsTrue(lease.ExpiredFor(1));
        Assert.IsFalse(lease.ExpiredFor(2));
        lease.Start();
        Assert.IsFalse(lease.HasExpired(2), "a new attempt's lease starts fresh");
        Assert.AreEqual("lease expired: S1 did not renew it for 5 s", lease.Reason("S1"));
    }

    [TestMethod]
    public void AttemptFailuresSayWhetherToRetrySuspectAndBlame()
    {
        var lease = new JobLease(new ManualTime(), Timeout);
        Assert.AreEqual(new AttemptFailure("lease expired: S1 did not renew it for 5 s", true, true, true), AttemptFailure.Of(new OperationCanceledException(), leaseExpired: true, lease, "m", "S1"));
        Assert.AreEqual(new AttemptFailure("prompt: bad", false, false, false), AttemptFailure.Of(new JobValidationException("prompt", "bad"), false, lease, "m", "S1"));
        Assert.AreEqual(new AttemptFailure("silo lost: S1 became unavailable (killed, crashed or cut off)", true, true, true), AttemptFailure.Of(new SiloUnavailableException(), false, lease, "m", "S1"));
        Assert.AreEqual(new AttemptFailure("timed out: slow", true, false, true), AttemptFailure.Of(new TimeoutException("slow"), false, lease, "m", "S1"));
        Assert.AreEqual(new AttemptFailure("InvalidOperationException: broke", true, false, true), AttemptFailure.Of(new InvalidOperationException("broke"), false, lease, "m", "S1"));
        Assert.IsTrue(AttemptFailure.IsHandBack(new WorkHandedBackException("S1"), announced: false));
        Assert.IsTrue(AttemptFailure.IsHandBack(new OperationCanceledException(), announced: true));
        Assert.IsFalse(AttemptFailure.IsHandBack(new OperationCanceledException(), announced: false));
    }
}

/// <summary>A clock the test moves by hand.</summary>
public sealed class ManualTime : TimeProvider
{
    private DateTimeOffset _now = new(2026, 12, 7, 12, 0, 0, TimeSpan.Zero);

    public override DateTimeOffset GetUtcNow() => _now;

    public void Advance(TimeSpan by) => _now += by;
}
