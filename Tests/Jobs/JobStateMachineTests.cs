using PoolAI.Jobs;

namespace PoolAI.Tests.Jobs;

[TestClass]
public sealed class JobStateMachineTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 30, 12, 0, 0, TimeSpan.Zero);

    private static JobState Queued(int maxAttempts = 3)
    {
        var state = new JobState();
        JobStateMachine.Accept(state, JobSpec.TextGeneration("m", TestModels.Settings()), T0, TimeSpan.FromMinutes(10), maxAttempts);
        return state;
    }

    private static JobResult Result => new(new TextOutput("text", 4, "length"), TimeSpan.FromSeconds(1), "silo-a");

    [TestMethod]
    public void AcceptedJobIsQueuedWithExpiryFromItsTimeToLive()
    {
        var state = Queued();
        Assert.AreEqual(JobStatus.Queued, state.Status);
        Assert.AreEqual(T0, state.CreatedAt);
        Assert.AreEqual(T0.AddMinutes(10), state.ExpiresAt);
        Assert.AreEqual(3, state.MaxAttempts);
    }

    [TestMethod]
    public void JobGoesQueuedAssignedRunningSucceeded()
    {
        var state = Queued();
        Assert.AreEqual(1, JobStateMachine.Assign(state, T0.AddSeconds(1)));
        Assert.AreEqual(JobStatus.Assigned, state.Status);
        JobStateMachine.Run(state, "silo-a", T0.AddSeconds(2));
        Assert.AreEqual(JobStatus.Running, state.Status);
        JobStateMachine.Succeed(state, Result, T0.AddSeconds(3));
        Assert.AreEqual(JobStatus.Succeeded, state.Status);
        Assert.AreEqual(Result, state.Result);
        var attempt = state.Attempts.Single();
        Assert.AreEqual("silo-a", attempt.Silo);
        Assert.AreEqual(T0.AddSeconds(3), attempt.EndedAt);
        Assert.AreEqual("succeeded", attempt.Outcome);
    }

    [TestMethod]
    public void FinalStatesNeverChange()
    {
        foreach (var final in new[] { JobStatus.Succeeded, JobStatus.Failed, JobStatus.Cancelled, JobStatus.Expired })
        {
            foreach (var to in Enum.GetValues<JobStatus>())
                Assert.IsFalse(JobStateMachine.CanMove(final, to), $"{final} -> {to}");
        }
    }

    [TestMethod]
    public void QueuedJobCannotRunOrSucceedWithoutBeingAssigned()
    {
        var state = Queued();
        Assert.ThrowsExactly<InvalidJobTransitionException>(() => JobStateMachine.Run(state, "silo", T0));
        Assert.ThrowsExactly<InvalidJobTransitionException>(() => JobStateMachine.Succeed(state, Result, T0));
        Assert.AreEqual(JobStatus.Queued, state.Status);
    }

    [TestMethod]
    public void CancelWorksInEveryNonFinalStateAndNotAfter()
    {
        var queued = Queued();
        Assert.IsTrue(JobStateMachine.Cancel(queued, "user", T0));
        Assert.AreEqual(JobStatus.Cancelled, queued.Status);
        Assert.AreEqual("cancelled: user", queued.StatusMessage);

        var running = Queued();
        JobStateMachine.Assign(running, T0);
        JobStateMachine.Run(running, "silo-a", T0);
        Assert.IsTrue(JobStateMachine.Cancel(running, "user", T0.AddSeconds(5)));
        Assert.AreEqual(JobStatus.Cancelled, running.Status);
        Assert.AreEqual("cancelled: user", running.Attempts.Single().Outcome);

        var done = Queued();
        JobStateMachine.Assign(done, T0);
        JobStateMachine.Succeed(done, Result, T0);
        Assert.IsFalse(JobStateMachine.Cancel(done, "late", T0));
        Assert.AreEqual(JobStatus.Succeeded, done.Status);
    }

    [TestMethod]
    public void FailedAttemptRequeuesUntilAttemptsRunOutThenFailsWithEveryReason()
    {
        var state = Queued(maxAttempts: 2);
        JobStateMachine.Assign(state, T0);
        Assert.AreEqual(JobStatus.Queued, JobStateMachine.FailAttempt(state, "miner died", retryable: true, T0.AddSeconds(1)));
        JobStateMachine.Assign(state, T0.AddSeconds(2));
        Assert.AreEqual(JobStatus.Failed, JobStateMachine.FailAttempt(state, "lease expired", retryable: true, T0.AddSeconds(3)));
        Assert.AreEqual("failed after 2 attempts: attempt 1: miner died; attempt 2: lease expired", state.StatusMessage);
        CollectionAssert.AreEqual(new[] { 1, 2 }, state.Attempts.Select(a => a.Number).ToArray());
    }

    [TestMethod]
    public void NonRetryableFailureEndsTheJobAtOnce()
    {
        var state = Queued();
        JobStateMachine.Assign(state, T0);
        Assert.AreEqual(JobStatus.Failed, JobStateMachine.FailAttempt(state, "prompt: bad", retryable: false, T0));
        Assert.AreEqual("prompt: bad", state.StatusMessage);
    }

    [TestMethod]
    public void ExpiredJobSaysWhenItsTimeRanOut()
    {
        var state = Queued();
        Assert.IsTrue(JobStateMachine.Expire(state, T0.AddMinutes(11)));
        Assert.AreEqual(JobStatus.Expired, state.Status);
        Assert.AreEqual($"expired: time to live ended at {T0.AddMinutes(10):O} before the job finished", state.StatusMessage);
    }

    [TestMethod]
    public void SubmittingTwiceIntoOneStateIsRefused()
    {
        var state = Queued();
        Assert.ThrowsExactly<InvalidOperationException>(() => JobStateMachine.Accept(state, state.Spec!, T0, TimeSpan.FromMinutes(1), 3));
    }

    [TestMethod]
    public void HandedBackAttemptsAreRecordedButDoNotCountTowardsMaxAttempts()
    {
        var state = Queued(maxAttempts: 1);
        for (var i = 0; i < 3; i++)
        {
            JobStateMachine.Assign(state, T0.AddSeconds(i));
            JobStateMachine.Locate(state, $"silo-{i}");
            JobStateMachine.HandBack(state, "handed back: silo silo-x is shutting down", T0.AddSeconds(i));
            Assert.AreEqual(JobStatus.Queued, state.Status);
        }

        Assert.AreEqual(3, state.Attempts.Count);
        Assert.IsTrue(state.Attempts.All(a => a.HandedBack && a.EndedAt is not null));
        CollectionAssert.AreEqual(new[] { "silo-0", "silo-1", "silo-2" }, state.Attempts.Select(a => a.Silo).ToArray());
        Assert.AreEqual(0, JobStateMachine.CountedAttempts(state));
        StringAssert.Contains(state.StatusMessage, "waiting for another worker");

        // The one counted attempt is still allowed, and its failure ends the job.
        JobStateMachine.Assign(state, T0.AddSeconds(10));
        Assert.AreEqual(JobStatus.Failed, JobStateMachine.FailAttempt(state, "lease expired: silo-3 did not renew it for 5 s", retryable: true, T0.AddSeconds(11)));
        StringAssert.Contains(state.StatusMessage, "attempt 4: lease expired");
    }

    [TestMethod]
    public void LocateSetsTheSiloOfTheRunningAttemptOnly()
    {
        var state = Queued();
        JobStateMachine.Assign(state, T0);
        JobStateMachine.Locate(state, "silo-a");
        JobStateMachine.Locate(state, "silo-b");
        Assert.AreEqual("silo-a", state.Attempts[^1].Silo);
        JobStateMachine.FailAttempt(state, "boom", retryable: true, T0.AddSeconds(1));
        JobStateMachine.Locate(state, "silo-c");
        Assert.AreEqual("silo-a", state.Attempts[^1].Silo);
    }
}
