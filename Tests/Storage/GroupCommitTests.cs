using PoolAI.Storage;

namespace PoolAI.Tests.Storage;

[TestClass]
public sealed class GroupCommitTests
{
    /// <summary>A state whose writes complete when the test says so, counting them and what each stored.</summary>
    private sealed class ManualState : IPersistentState<List<int>>
    {
        public List<TaskCompletionSource> Writes { get; } = [];

        public List<int[]> Stored { get; } = [];

        public List<int> State { get; set; } = [];

        public string? Etag => null;

        public bool RecordExists => true;

        public Task ClearStateAsync() => Task.CompletedTask;

        public Task ReadStateAsync() => Task.CompletedTask;

        public Task WriteStateAsync()
        {
            Stored.Add([.. State]);
            var write = new TaskCompletionSource();
            Writes.Add(write);
            return write.Task;
        }
    }

    [TestMethod]
    public async Task ChangesMadeWhileAWriteIsInFlightShareTheNextWrite()
    {
        var state = new ManualState();
        var commit = new GroupCommit<List<int>>(state);
        state.State.Add(1);
        var first = commit.WriteAsync();
        var later = Enumerable.Range(2, 100).Select(i =>
        {
            state.State.Add(i);
            return commit.WriteAsync();
        }).ToList();
        Assert.AreEqual(1, state.Writes.Count, "one write at a time");
        Assert.IsFalse(later.Any(t => t.IsCompleted));

        state.Writes[0].SetResult();
        await first;
        Assert.AreEqual(2, state.Writes.Count, "the 100 changes made meanwhile go in one write");
        Assert.IsFalse(later.Any(t => t.IsCompleted), "their callers wait for that write");
        CollectionAssert.AreEqual(Enumerable.Range(1, 101).ToArray(), state.Stored[1]);

        state.Writes[1].SetResult();
        await Task.WhenAll(later);
        Assert.AreEqual(2, state.Writes.Count);
        Assert.IsFalse(commit.IsDirty);
    }

    [TestMethod]
    public async Task AFailedWriteFailsItsCallersAndLeavesTheStateToBeWrittenAgain()
    {
        var state = new ManualState();
        var commit = new GroupCommit<List<int>>(state);
        var first = commit.WriteAsync();
        state.Writes[0].SetException(new InvalidOperationException("storage down"));
        await Assert.ThrowsExactlyAsync<InvalidOperationException>(() => first);
        Assert.IsTrue(commit.IsDirty);

        commit.Flush();
        Assert.AreEqual(2, state.Writes.Count, "a flush writes what was not stored");
        var second = commit.WriteAsync();
        state.Writes[1].SetException(new InvalidOperationException("storage down"));
        Assert.AreEqual(3, state.Writes.Count, "a write asked for during a failing one is still made");
        state.Writes[2].SetResult();
        await second;
        Assert.IsFalse(commit.IsDirty);
    }
}
