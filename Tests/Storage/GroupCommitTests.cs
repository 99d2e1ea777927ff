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

    /// <summary>Waits until <paramref name="state"/> has seen <paramref name="count"/> writes begin (a write begins after a yield).</summary>
    private static async Task WritesBegunAsync(ManualState state, int count)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (state.Writes.Count < count)
        {
            Assert.IsTrue(DateTime.UtcNow < deadline, $"{state.Writes.Count} writes began, expected {count}");
            await Task.Delay(1);
        }
    }

    [TestMethod]
    public async Task CallsMadeBeforeTheWriteBeginsShareIt()
    {
        var state = new ManualState();
        var commit = new GroupCommit<List<int>>(state);
        var calls = Enumerable.Range(1, 50).Select(i =>
        {
            state.State.Add(i);
            return commit.WriteAsync();
        }).ToList();
        await WritesBegunAsync(state, 1);
        CollectionAssert.AreEqual(Enumerable.Range(1, 50).ToArray(), state.Stored[0], "the burst went in one write");
        state.Writes[0].SetResult();
        await Task.WhenAll(calls);
        Assert.AreEqual(1, state.Writes.Count);
        Assert.IsFalse(commit.IsDirty);
    }

    [TestMethod]
    public async Task ChangesMadeWhileAWriteIsInFlightShareTheNextWrite()
    {
        var state = new ManualState();
        var commit = new GroupCommit<List<int>>(state);
        state.State.Add(1);
        var first = commit.WriteAsync();
        await WritesBegunAsync(state, 1);
        var later = Enumerable.Range(2, 100).Select(i =>
        {
            state.State.Add(i);
            return commit.WriteAsync();
        }).ToList();
        Assert.AreEqual(1, state.Writes.Count, "one write at a time");
        Assert.IsFalse(later.Any(t => t.IsCompleted));

        state.Writes[0].SetResult();
        await first;
        await WritesBegunAsync(state, 2);
        Assert.IsFalse(later.Any(t => t.IsCompleted), "their callers wait for that write");
        CollectionAssert.AreEqual(Enumerable.Range(1, 101).ToArray(), state.Stored[1], "the 100 changes made meanwhile go in one write");

        state.Writes[1].SetResult();
        await Task.WhenAll(later);
        Assert.AreEqual(2, state.Writes.Count);
        Assert.IsFalse(commit.IsDirty);
    }

    [TestMethod]
    public async Task AMarkedChangeWaitsForTheNextWriteOrAFlush()
    {
        var state = new ManualState();
        var commit = new GroupCommit<List<int>>(state);
        state.State.Add(1);
        commit.MarkDirty();
        await Task.Delay(50);
        Assert.AreEqual(0, state.Writes.Count, "marking a change starts no write");
        Assert.IsTrue(commit.IsDirty);

        commit.Flush();
        await WritesBegunAsync(state, 1);
        CollectionAssert.AreEqual(new[] { 1 }, state.Stored[0]);
        state.Writes[0].SetResult();
        await WritesBegunAsync(state, 1);

        state.State.Add(2);
        commit.MarkDirty();
        state.State.Add(3);
        var write = commit.WriteAsync();
        await WritesBegunAsync(state, 2);
        CollectionAssert.AreEqual(new[] { 1, 2, 3 }, state.Stored[1], "the next write a caller waits for stores the marked change");
        state.Writes[1].SetResult();
        await write;
        Assert.IsFalse(commit.IsDirty);
    }

    [TestMethod]
    public async Task AFailedWriteFailsItsCallersAndLeavesTheStateToBeWrittenAgain()
    {
        var state = new ManualState();
        var commit = new GroupCommit<List<int>>(state);
        var first = commit.WriteAsync();
        await WritesBegunAsync(state, 1);
        state.Writes[0].SetException(new InvalidOperationException("storage down"));
        await Assert.ThrowsExactlyAsync<InvalidOperationException>(() => first);
        Assert.IsTrue(commit.IsDirty);

        commit.Flush();
        await WritesBegunAsync(state, 2);
        var second = commit.WriteAsync();
        state.Writes[1].SetException(new InvalidOperationException("storage down"));
        await WritesBegunAsync(state, 3);
        state.Writes[2].SetResult();
        await second;
        Assert.IsFalse(commit.IsDirty);
    }
}
