using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;
using Orleans.Serialization.Serializers;
using PoolAI.Admin;
using Orleans.Storage;
using PoolAI.Jobs;
using PoolAI.Silo.Storage;

namespace PoolAI.Tests.Storage;

/// <summary>The <c>process</c> storage provider: the semantics of a grain storage (copies, ETags, clear), without grain calls.</summary>
[TestClass]
public sealed class InProcessGrainStorageTests
{
    private static readonly IServiceProvider Services = new ServiceCollection()
        .AddSerializer(builder => builder.AddAssembly(typeof(JobState).Assembly).AddAssembly(typeof(PoolSettings).Assembly))
        .BuildServiceProvider();

    private static readonly Serializer Serializer = Services.GetRequiredService<Serializer>();

    private static readonly GrainId Grain = GrainId.Create("job", Guid.NewGuid().ToString("N"));

    private static InProcessGrainStorage NewStorage(out InProcessStateStore store)
    {
        store = new InProcessStateStore();
        return new InProcessGrainStorage(store, new OrleansBinaryStateSerializer(Serializer), Services.GetRequiredService<IActivatorProvider>());
    }

    private static JobState Job(string model) => new() { Spec = JobSpec.Noop(model), Status = JobStatus.Queued, StatusMessage = model };

    [TestMethod]
    public async Task AWrittenStateIsReadBackAsACopy()
    {
        var storage = NewStorage(out _);
        var written = new GrainState<JobState>(Job("first"));
        await storage.WriteStateAsync("job", Grain, written);
        Assert.IsTrue(written.RecordExists);
        Assert.IsNotNull(written.ETag);
        written.State!.StatusMessage = "changed after the write";

        var read = new GrainState<JobState>(new JobState());
        await storage.ReadStateAsync("job", Grain, read);
        Assert.IsTrue(read.RecordExists);
        Assert.AreEqual(written.ETag, read.ETag);
        Assert.AreEqual("first", read.State!.StatusMessage, "the store keeps what was written, not the writer's object");
        Assert.AreEqual(JobStatus.Queued, read.State!.Status);
        Assert.AreNotSame(written.State, read.State);

        var missing = new GrainState<JobState>(new JobState());
        await storage.ReadStateAsync("job", GrainId.Create("job", "nobody"), missing);
        Assert.IsFalse(missing.RecordExists);
        Assert.IsNull(missing.ETag);
    }

    [TestMethod]
    public async Task AMissingPositionalRecordReadsAsItsDefaults()
    {
        // PoolSettings has no parameterless constructor; the pool settings grain reads it before anyone wrote it.
        var storage = NewStorage(out _);
        var read = new GrainState<PoolSettings>(new PoolSettings(MaintenanceMode: true)) { ETag = "stale", RecordExists = true };
        await storage.ReadStateAsync("settings", GrainId.Create("poolsettings", "0"), read);
        Assert.IsFalse(read.RecordExists);
        Assert.IsNull(read.ETag);
        Assert.IsNotNull(read.State);
        Assert.IsFalse(read.State.MaintenanceMode, "a missing record reads as the empty state, not the previous one");

        read.State = new PoolSettings(MaintenanceMode: true, MaintenanceReason: "upgrade");
        await storage.WriteStateAsync("settings", GrainId.Create("poolsettings", "0"), read);
        var again = new GrainState<PoolSettings>(new PoolSettings());
        await storage.ReadStateAsync("settings", GrainId.Create("poolsettings", "0"), again);
        Assert.AreEqual("upgrade", again.State!.MaintenanceReason);
    }

    [TestMethod]
    public async Task AWriteWithAStaleETagIsRefusedAndTheStoredStateKept()
    {
        var storage = NewStorage(out _);
        var first = new GrainState<JobState>(Job("one"));
        await storage.WriteStateAsync("job", Grain, first);
        var stale = new GrainState<JobState>(Job("stale")) { ETag = first.ETag };
        await storage.WriteStateAsync("job", Grain, first); // the first writer writes again: its ETag moves on

        await Assert.ThrowsExactlyAsync<InconsistentStateException>(() => storage.WriteStateAsync("job", Grain, stale));
        var fresh = new GrainState<JobState>(Job("fresh"));
        await Assert.ThrowsExactlyAsync<InconsistentStateException>(() => storage.WriteStateAsync("job", Grain, fresh), "a writer that read nothing cannot overwrite a record");

        var read = new GrainState<JobState>(new JobState());
        await storage.ReadStateAsync("job", Grain, read);
        Assert.AreEqual("one", read.State!.StatusMessage);
        Assert.AreEqual(first.ETag, read.ETag);
    }

    [TestMethod]
    public async Task AClearedStateReadsAsMissingAndCanBeWrittenAgain()
    {
        var storage = NewStorage(out var store);
        var state = new GrainState<JobState>(Job("kept"));
        await storage.WriteStateAsync("job", Grain, state);
        await storage.WriteStateAsync("queue", Grain, new GrainState<JobState>(Job("other state name")));
        Assert.AreEqual(2, store.Count, "one record per state name and grain");

        await storage.ClearStateAsync("job", Grain, state);
        Assert.IsFalse(state.RecordExists);
        Assert.IsNull(state.ETag);
        var read = new GrainState<JobState>(new JobState());
        await storage.ReadStateAsync("job", Grain, read);
        Assert.IsFalse(read.RecordExists);
        Assert.IsNull(read.State!.Spec);

        var again = new GrainState<JobState>(Job("again"));
        await storage.WriteStateAsync("job", Grain, again);
        await storage.ReadStateAsync("job", Grain, read);
        Assert.AreEqual("again", read.State!.StatusMessage);

        var other = new GrainState<JobState>(new JobState());
        await storage.ReadStateAsync("queue", Grain, other);
        Assert.AreEqual("other state name", other.State!.StatusMessage, "clearing one state leaves the grain's others");
    }

    [TestMethod]
    public async Task ARereadAfterAnotherWriterClearedTheRecordReadsItAsMissing()
    {
        var storage = NewStorage(out _);
        var first = new GrainState<JobState>(Job("first"));
        await storage.WriteStateAsync("job", Grain, first);
        var second = new GrainState<JobState>(new JobState());
        await storage.ReadStateAsync("job", Grain, second);
        await storage.ClearStateAsync("job", Grain, second);

        await storage.ReadStateAsync("job", Grain, first);
        Assert.IsFalse(first.RecordExists);
        Assert.IsNull(first.ETag);
        Assert.IsNull(first.State!.Spec, "the old state is not kept");
        first.State = Job("written again");
        await storage.WriteStateAsync("job", Grain, first);
        var read = new GrainState<JobState>(new JobState());
        await storage.ReadStateAsync("job", Grain, read);
        Assert.AreEqual("written again", read.State!.StatusMessage);
    }

    [TestMethod]
    public async Task ConcurrentWritersOfOneRecordNeverBothWin()
    {
        var storage = NewStorage(out _);
        var start = new GrainState<JobState>(Job("start"));
        await storage.WriteStateAsync("job", Grain, start);
        var wins = 0;
        var refusals = 0;
        await Task.WhenAll(Enumerable.Range(0, 8).Select(i => Task.Run(async () =>
        {
            var writer = new GrainState<JobState>(Job($"writer {i}")) { ETag = start.ETag };
            try
            {
                await storage.WriteStateAsync("job", Grain, writer);
                Interlocked.Increment(ref wins);
            }
            catch (InconsistentStateException)
            {
                Interlocked.Increment(ref refusals);
            }
        })));
        Assert.AreEqual(1, wins, "one writer holding the read ETag wins");
        Assert.AreEqual(7, refusals);
    }
}
