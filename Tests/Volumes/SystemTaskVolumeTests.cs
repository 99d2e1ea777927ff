using System.Globalization;
using System.Security.Cryptography;
using Microsoft.Extensions.DependencyInjection;
using PoolAI.Client.Sdk;
using PoolAI.Jobs;
using PoolAI.Models;
using PoolAI.Volumes;
using PoolAI.Workers;

namespace PoolAI.Tests.Volumes;

/// <summary>
/// The volume system tasks, submitted through the SDK as a user would, on a coordinator and seven miners (so that six
/// remain when one is emptied): <c>migrate</c> empties a miner's store and puts it in maintenance, <c>mirror</c> copies a
/// volume file into miners' models directories. Each silo has its own models directory; silos 1 and 2 serve a tiny
/// model of their own, <c>tiny-served</c>.
/// </summary>
[TestClass]
[DoNotParallelize]
public sealed class SystemTaskVolumeTests
{
    private const int Miners = 7;
    private const string Models = "models";
    private static readonly TimeSpan JobTimeout = TimeSpan.FromMinutes(3);
    private static VolumeCluster _pool = null!;
    private static PoolClient _client = null!;
    private static string _modelFolders = null!;

    [ClassInitialize]
    public static async Task Start(TestContext context)
    {
        _modelFolders = Directory.CreateTempSubdirectory("poolai-mirror-").FullName;
        foreach (var silo in new[] { 1, 2 })
            SaveTinyCheckpoint(Path.Combine(ModelsOf(silo), "tiny-served"), seed: silo);
        _pool = await VolumeCluster.StartAsync(Miners, perSilo: i => new Dictionary<string, string?> { [ModelRegistry.DirectoryKey] = ModelsOf(i) });
        _client = new PoolClient(_pool.Cluster.Client);
        await _pool.Volumes.CreateAsync(Models, new VolumeSpec("rs:4+2", ShardBytes: VolumeCluster.ShardBytes));
    }

    [ClassCleanup]
    public static async Task Stop()
    {
        await _pool.DisposeAsync();
        Directory.Delete(_modelFolders, recursive: true);
    }

    [TestMethod]
    public async Task MigrateMovesEveryShardOffTheWorkerAndLeavesItInMaintenanceWithAnEmptyStore()
    {
        const string worker = "store-7";
        var plain = NewVolume("a");
        var encrypted = NewVolume("b");
        await _pool.Volumes.CreateAsync(plain, new VolumeSpec("rs:4+2", ShardBytes: VolumeCluster.ShardBytes));
        await _pool.Volumes.CreateAsync(encrypted, new VolumeSpec("rs:4+2", Encrypt: true, ShardBytes: VolumeCluster.ShardBytes));
        var files = new Dictionary<(string Volume, string Path), byte[]>
        {
            [(plain, "big.bin")] = VolumeCluster.Bytes(1_500_000, 1),
            [(plain, "odd.bin")] = VolumeCluster.Bytes(300_001, 2),
            [(plain, "one.bin")] = VolumeCluster.Bytes(1, 3),
            [(encrypted, "secret.bin")] = VolumeCluster.Bytes(900_000, 4),
        };
        foreach (var ((volume, path), content) in files)
            await _pool.PutAsync(volume, path, content);
        var held = new Dictionary<string, List<(StripeRef Ref, int Index)>>
        {
            [plain] = await HeldAsync(plain, worker),
            [encrypted] = await HeldAsync(encrypted, worker),
        };
        Assert.IsTrue(held.Values.All(h => h.Count > 0), "the miner holds shards of both volumes before the drain");
        // One shard on the miner is corrupt: it cannot be copied and is rebuilt from the rest of its stripe.
        var corrupt = held[plain][0];
        var corruptFile = _pool.StoreIn(7).PathOf(ShardIds.Of(plain, corrupt.Ref.Write, corrupt.Ref.Stripe.Index, corrupt.Index));
        var bytes = await File.ReadAllBytesAsync(corruptFile);
        bytes[^1] ^= 0x01;
        await File.WriteAllBytesAsync(corruptFile, bytes);

        var job = await RunAsync(SystemTasks.Migrate, ("worker", worker));

        Assert.AreEqual(JobStatus.Succeeded, job.Status, job.StatusMessage);
        var moved = held.Values.Sum(h => h.Count);
        var shardBytes = held.Values.Sum(h => h.Sum(x => (long)x.Ref.Stripe.ShardBytes));
        var perVolume = string.Join(", ", held.OrderBy(h => h.Key, StringComparer.Ordinal).Select(h => $"{h.Key} {h.Value.Count}"));
        Assert.AreEqual(
            $"migrate {worker}: worker in maintenance; moved {moved} shards ({shardBytes} bytes; {moved - 1} copied, 1 rebuilt) from {perVolume}; deleted 0 unreferenced shards; store empty: 0 shards referenced by any volume; jobs: none were running",
            ((SystemTaskOutput)job.Result!.Output).Summary);
        Assert.AreEqual((moved, (long?)moved, "shards", "store empty"), (job.Progress!.Step, job.Progress.Total, job.Progress.Unit, job.Progress.Message));
        Assert.AreEqual((double)shardBytes, job.Progress.Metrics!["bytes"]);
        foreach (var volume in held.Keys)
        {
            Assert.AreEqual(0, (await HeldAsync(volume, worker)).Count, $"no stripe of {volume} refers to {worker}");
            Assert.AreEqual(0, FilesUnder(Path.Combine(_pool.Root, worker, volume)).Count, $"{worker}'s folder holds no shard file of {volume}");
        }

        foreach (var ((volume, path), content) in files)
            CollectionAssert.AreEqual(content, await _pool.GetAsync(volume, path), $"{volume}/{path} reads back byte-identical");
        var status = await _client.GetWorkerAsync(worker);
        var reason = $"being emptied by migrate job {job.Id:N}";
        Assert.AreEqual((WorkerStatus.Maintenance, reason), (status.Status, status.StatusReason));
        Assert.AreEqual((true, reason), await StoreStateAsync(worker));

        // A write that begins while the store drains never lands there.
        await _pool.PutAsync(plain, "after.bin", VolumeCluster.Bytes(600_000, 5));
        Assert.AreEqual(0, (await HeldAsync(plain, worker)).Count, "a file written after the drain began has no shard on the draining store");

        // Back from maintenance, the store takes shards again.
        await _pool.Cluster.Client.GetGrain<IWorkerGrain>(worker).SetStatusAsync(WorkerStatus.Active);
        Assert.AreEqual((true, (string?)null), await StoreStateAsync(worker));
    }

    [TestMethod]
    public async Task MigrateIsRefusedNamingTheWorkerWhenTheOtherStoresCannotHoldTheLayout()
    {
        const string worker = "store-1";
        var takers = (await _pool.Cluster.Client.GetGrain<IStoreDirectoryGrain>(IStoreDirectoryGrain.Default).GetStoresAsync()).Where(s => s.TakesShards).Select(s => s.StoreId).ToList();
        // A layout with a shard on every store that takes shards: without one of them, every stripe is a store short.
        var layout = string.Create(CultureInfo.InvariantCulture, $"rs:{takers.Count - 2}+2");
        var volume = NewVolume("c");
        await _pool.Volumes.CreateAsync(volume, new VolumeSpec(layout, ShardBytes: VolumeCluster.ShardBytes));
        await _pool.PutAsync(volume, "wide.bin", VolumeCluster.Bytes(5_000, 6));
        var before = await HeldAsync(volume, worker);

        var job = await RunAsync(SystemTasks.Migrate, ("worker", worker));

        var others = takers.Where(t => t != worker).ToList();
        Assert.AreEqual(JobStatus.Failed, job.Status);
        Assert.AreEqual(
            $"input.parameters.worker: store {worker} cannot be emptied: volume '{volume}' ({layout}) keeps the {takers.Count} shards of each stripe on {takers.Count} distinct stores, but without {worker} only {others.Count} live stores take shards ({string.Join(", ", others)}): 1 of the 1 stripes with a shard on {worker} have no store to move it to; 1 more live store is needed",
            job.StatusMessage);
        Assert.AreEqual(1, job.Attempts.Count, "a refusal is not retried");
        Assert.AreEqual(WorkerStatus.Active, (await _client.GetWorkerAsync(worker)).Status, "a refused drain leaves the worker as it was");
        Assert.AreEqual((true, (string?)null), await StoreStateAsync(worker));
        Assert.AreEqual(before.Count, (await HeldAsync(volume, worker)).Count);
    }

    [TestMethod]
    public async Task MigrateOfAnUnknownWorkerIsRefusedNamingTheField()
    {
        var job = await RunAsync(SystemTasks.Migrate, ("worker", "nobody"));
        Assert.AreEqual((JobStatus.Failed, "input.parameters.worker: no worker or store 'nobody' is known to the pool"), (job.Status, job.StatusMessage));
        var missing = await Assert.ThrowsExactlyAsync<JobValidationException>(() => RunAsync(SystemTasks.Migrate, ("wait", "5")));
        Assert.AreEqual(("input.parameters.worker", "is required: the worker id of the silo to empty (also its store's id), 1 to 128 characters without spaces; was ''"), (missing.Field, missing.Rule));
        var wait = await Assert.ThrowsExactlyAsync<JobValidationException>(() => RunAsync(SystemTasks.Migrate, ("worker", "store-1"), ("wait", "-1")));
        Assert.AreEqual(("input.parameters.wait", "must be whole seconds from 0 to 86400; was '-1'"), (wait.Field, wait.Rule));
    }

    [TestMethod]
    public async Task MirrorToAllCopiesACheckpointToEveryMinerHashCheckedAndTheMinersServeItWithoutARestart()
    {
        var (source, weights, config) = await PublishTinyCheckpointAsync("tiny-char", seed: 9);

        // The weights first, the config last: the config makes the model known.
        var first = await RunAsync(SystemTasks.Mirror, ("volume", Models), ("path", "tiny-char/model.bin"), ("to", "all"));
        var second = await RunAsync(SystemTasks.Mirror, ("volume", Models), ("path", "tiny-char/config.json"), ("to", "all"));

        Assert.AreEqual(JobStatus.Succeeded, first.Status, first.StatusMessage);
        Assert.AreEqual(JobStatus.Succeeded, second.Status, second.StatusMessage);
        Assert.AreEqual(MirrorSummary(weights, Enumerable.Range(1, Miners), registered: false), ((SystemTaskOutput)first.Result!.Output).Summary);
        // The config also reaches the coordinator, whose registry then accepts jobs for the model.
        Assert.AreEqual(MirrorSummary(config, Enumerable.Range(1, Miners), registered: true, coordinator: true), ((SystemTaskOutput)second.Result!.Output).Summary);
        Assert.AreEqual((Miners + 1, (long?)(Miners + 1), "silos"), (second.Progress!.Step, second.Progress.Total, second.Progress.Unit));
        for (var silo = 1; silo <= Miners; silo++)
        {
            var folder = Path.Combine(ModelsOf(silo), "tiny-char");
            Assert.AreEqual(weights.Sha256, Sha256Of(Path.Combine(folder, ModelCheckpoint.WeightsFile)), $"silo {silo}'s weights");
            Assert.AreEqual(config.Sha256, Sha256Of(Path.Combine(folder, ModelCheckpoint.ConfigFile)), $"silo {silo}'s config");
            CollectionAssert.AreEquivalent(new[] { ModelCheckpoint.ConfigFile, ModelCheckpoint.WeightsFile }, Directory.GetFiles(folder).Select(Path.GetFileName).ToArray(), "no temporary file is left");
            Assert.IsTrue(_pool.Cluster.Silos[silo].ServiceProvider.GetRequiredService<ModelRegistry>().Contains("tiny-char"), $"silo {silo}'s registry knows tiny-char");
            CollectionAssert.Contains((await _client.GetWorkerAsync($"store-{silo}")).Capabilities!.Models.ToList(), "tiny-char", $"worker store-{silo} advertises tiny-char");
        }

        Assert.AreEqual(config.Sha256, Sha256Of(Path.Combine(ModelsOf(0), "tiny-char", ModelCheckpoint.ConfigFile)), "the coordinator's config");
        CollectionAssert.AreEquivalent(new[] { ModelCheckpoint.ConfigFile }, Directory.GetFiles(Path.Combine(ModelsOf(0), "tiny-char")).Select(Path.GetFileName).ToArray(), "the coordinator gets the config, not the weights");
        using var loaded = ModelCheckpoint.Load(Path.Combine(ModelsOf(3), "tiny-char"));
        Assert.AreEqual("tiny-char", loaded.Config.Id);

        // Served at once: jobs for the new model run on the miners, none restarted, on the mirrored weights.
        var texts = await GenerateAsync("tiny-char", "ABCD");
        using var local = ModelCheckpoint.Load(source);
        CollectionAssert.AreEqual(Greedy(local, "ABCD"), texts, "each job's text is the mirrored checkpoint's");
    }

    [TestMethod]
    public async Task NewWeightsMirroredOverALoadedModelAreServedByItsMinersFromTheNextJob()
    {
        // Silo 1 has tiny-served loaded (its seed-1 weights) before the update arrives.
        var host = _pool.Cluster.Silos[1].ServiceProvider.GetRequiredService<Inference.ModelHost>();
        var before = host.Get("tiny-served");
        var (source, _, config) = await PublishTinyCheckpointAsync("update/tiny-served", seed: 5);

        var first = await RunAsync(SystemTasks.Mirror, ("volume", Models), ("path", "update/tiny-served/model.bin"), ("model", "tiny-served"));
        var second = await RunAsync(SystemTasks.Mirror, ("volume", Models), ("path", "update/tiny-served/config.json"), ("model", "tiny-served"));

        Assert.AreEqual(JobStatus.Succeeded, first.Status, first.StatusMessage);
        Assert.AreEqual(JobStatus.Succeeded, second.Status, second.StatusMessage);
        Assert.AreEqual(MirrorSummary(config, [1, 2], registered: true, path: "update/tiny-served/config.json", coordinator: true), ((SystemTaskOutput)second.Result!.Output).Summary);
        var texts = await GenerateAsync("tiny-served", "EFGH");
        using var local = ModelCheckpoint.Load(source);
        CollectionAssert.AreEqual(Greedy(local, "EFGH"), texts, "every job runs on the new weights, on either miner");
        var after = host.Get("tiny-served");
        Assert.AreNotSame(before, after, "silo 1 loaded the new checkpoint");
        Assert.IsTrue(before.IsRetired, "the old batcher retired: it frees the old weights once it has nothing left to run");
    }

    [TestMethod]
    public async Task MirrorOfAModelReachesOnlyTheMinersThatServeIt()
    {
        var notes = await _pool.PutAsync(Models, "releases/tiny-served/notes.txt", "trained on tiny shakespeare\n"u8.ToArray());

        var job = await RunAsync(SystemTasks.Mirror, ("volume", Models), ("path", "releases/tiny-served/notes.txt"), ("model", "tiny-served"));

        Assert.AreEqual(JobStatus.Succeeded, job.Status, job.StatusMessage);
        Assert.AreEqual(MirrorSummary(notes, [1, 2], registered: true, path: "releases/tiny-served/notes.txt"), ((SystemTaskOutput)job.Result!.Output).Summary);
        for (var silo = 1; silo <= Miners; silo++)
        {
            var file = Path.Combine(ModelsOf(silo), "tiny-served", "notes.txt");
            Assert.AreEqual(silo <= 2 ? notes.Sha256 : null, File.Exists(file) ? Sha256Of(file) : null, $"silo {silo}");
        }
    }

    [TestMethod]
    public async Task MirrorRefusesAnUnknownVolumePathOrModelNamingTheField()
    {
        await _pool.PutAsync(Models, "unserved/weights.bin", VolumeCluster.Bytes(10, 7));

        var volume = await RunAsync(SystemTasks.Mirror, ("volume", "no-such-volume"), ("path", "tiny-char/model.bin"), ("to", "all"));
        var path = await RunAsync(SystemTasks.Mirror, ("volume", Models), ("path", "tiny-char/missing.bin"), ("to", "all"));
        var model = await RunAsync(SystemTasks.Mirror, ("volume", Models), ("path", "unserved/weights.bin"), ("model", "unserved"));

        Assert.AreEqual((JobStatus.Failed, "input.parameters.volume: no volume named 'no-such-volume'"), (volume.Status, volume.StatusMessage));
        Assert.AreEqual((JobStatus.Failed, $"input.parameters.path: no file 'tiny-char/missing.bin' in volume '{Models}'"), (path.Status, path.StatusMessage));
        var served = string.Join(", ", (await Task.WhenAll(Enumerable.Range(1, Miners).Select(i => _client.GetWorkerAsync($"store-{i}"))))
            .SelectMany(w => w.Capabilities!.Models).Distinct().Order(StringComparer.Ordinal));
        StringAssert.Contains(served, "tiny-served");
        Assert.AreEqual((JobStatus.Failed, $"input.parameters.model: no miner serves model 'unserved'; served: {served} (to=all copies to every miner)"), (model.Status, model.StatusMessage));
        var root = await Assert.ThrowsExactlyAsync<JobValidationException>(() => RunAsync(SystemTasks.Mirror, ("volume", Models), ("path", "model.bin"), ("to", "all")));
        Assert.AreEqual(("input.parameters.path", "'model.bin' is at the volume's root; a mirrored file is MODEL/FILE (e.g. shakespeare-char/model.bin): the folder that holds it names the model"), (root.Field, root.Rule));
        var other = await Assert.ThrowsExactlyAsync<JobValidationException>(() => RunAsync(SystemTasks.Mirror, ("volume", Models), ("path", "tiny-char/model.bin"), ("model", "tiny-served")));
        Assert.AreEqual(("input.parameters.path", "'tiny-char/model.bin' is in the folder 'tiny-char', which names model 'tiny-char', not 'tiny-served': a mirrored file lands in the folder of the model it belongs to"), (other.Field, other.Rule));
        var to = await Assert.ThrowsExactlyAsync<JobValidationException>(() => RunAsync(SystemTasks.Mirror, ("volume", Models), ("path", "tiny-char/model.bin"), ("to", "some")));
        Assert.AreEqual(("input.parameters.to", "must be 'all' (every miner); was 'some'"), (to.Field, to.Rule));
        var neither = await Assert.ThrowsExactlyAsync<JobValidationException>(() => RunAsync(SystemTasks.Mirror, ("volume", Models), ("path", "tiny-char/model.bin")));
        Assert.AreEqual(("input.parameters.model", "is required unless to=all: the miners that serve this model get the file"), (neither.Field, neither.Rule));
    }

    private static string ModelsOf(int silo) => Path.Combine(_modelFolders, $"silo-{silo}");

    private static string NewVolume(string prefix) => $"{prefix}{Guid.NewGuid():N}"[..20];

    /// <summary>Submits a system task through the SDK and waits for it to end.</summary>
    private static async Task<JobView> RunAsync(string task, params (string Name, string Value)[] parameters)
    {
        var submitted = await _client.SubmitAsync(JobSpec.SystemTask(task, new SystemTaskInput(parameters.ToDictionary(p => p.Name, p => p.Value))));
        return await _client.WaitAsync(submitted.Id, JobTimeout);
    }

    /// <summary>The shards of <paramref name="volume"/> that sit on <paramref name="store"/>.</summary>
    private static async Task<List<(StripeRef Ref, int Index)>> HeldAsync(string volume, string store) =>
        [.. (await _pool.Volumes.Volume(volume).GetStripesAsync()).SelectMany(s => s.Stripe.Shards.Select((h, i) => (Ref: s, Index: i, h.Store))).Where(x => x.Store == store).Select(x => (x.Ref, x.Index))];

    private static async Task<(bool Alive, string? Draining)> StoreStateAsync(string store)
    {
        var view = (await _pool.Cluster.Client.GetGrain<IStoreDirectoryGrain>(IStoreDirectoryGrain.Default).GetStoresAsync()).Single(s => s.StoreId == store);
        return (view.Alive, view.Draining);
    }

    private static List<string> FilesUnder(string folder) =>
        Directory.Exists(folder) ? [.. Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories)] : [];

    private static string Sha256Of(string file) => Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(file)));

    /// <summary>The mirror task's summary for <paramref name="file"/> copied to <paramref name="silos"/> (registry-following miners) and, with <paramref name="coordinator"/>, to silo 0.</summary>
    private static string MirrorSummary(VolumeFile file, IEnumerable<int> silos, bool registered, string? path = null, bool coordinator = false)
    {
        var (model, name) = MirroredModels.Target(path ?? file.Path);
        var lines = silos.Concat(coordinator ? [0] : Array.Empty<int>()).Select(i =>
            $"{(i == 0 ? "coordinator" : $"store-{i}")} ({_pool.Cluster.Silos[i].SiloAddress}): {Path.Combine(ModelsOf(i), model, name)}, {file.Length} bytes, sha256 ok, "
            + (!registered ? $"model {model} not registered (no config.json yet)" : i == 0 ? $"model {model} registered" : $"model {model} registered and served")).ToList();
        return string.Join('\n', [$"mirror {Models}/{path ?? file.Path} ({file.Length} bytes, sha256 {file.Sha256}) as model {model}: {lines.Count} of {lines.Count} silo{(lines.Count == 1 ? "" : "s")} ok", .. lines]);
    }

    /// <summary>Greedy 16-token generations of <paramref name="model"/> through the pool, one job per prompt character, all at once.</summary>
    private static async Task<string[]> GenerateAsync(string model, string prompts)
    {
        var jobs = await Task.WhenAll(prompts.Select(async p =>
        {
            var submitted = await _client.SubmitAsync(JobSpec.TextGeneration(model, new GenerationSettings(p.ToString(), 16, Temperature: 0)));
            return await _client.WaitAsync(submitted.Id, JobTimeout);
        }));
        foreach (var job in jobs)
            Assert.AreEqual(JobStatus.Succeeded, job.Status, job.StatusMessage);
        return [.. jobs.Select(j => ((TextOutput)j.Result!.Output).Text)];
    }

    /// <summary>What <see cref="GenerateAsync"/> gives on <paramref name="model"/> run here.</summary>
    private static string[] Greedy(LoadedModel model, string prompts) =>
        [.. prompts.Select(p => new TextGenerator(model).Generate(new GenerationSettings(p.ToString(), 16, Temperature: 0)).Text)];

    /// <summary>
    /// Saves a tiny checkpoint made with <paramref name="seed"/> here and puts its weights and config in the models volume
    /// at <paramref name="prefix"/> (whose last folder names the model); returns the local folder and the two files.
    /// </summary>
    private static async Task<(string Source, VolumeFile Weights, VolumeFile Config)> PublishTinyCheckpointAsync(string prefix, long seed)
    {
        var source = Path.Combine(_modelFolders, "published", prefix);
        SaveTinyCheckpoint(source, seed);
        var weights = await _pool.PutAsync(Models, $"{prefix}/{ModelCheckpoint.WeightsFile}", await File.ReadAllBytesAsync(Path.Combine(source, ModelCheckpoint.WeightsFile)));
        var config = await _pool.PutAsync(Models, $"{prefix}/{ModelCheckpoint.ConfigFile}", await File.ReadAllBytesAsync(Path.Combine(source, ModelCheckpoint.ConfigFile)));
        return (source, weights, config);
    }

    /// <summary>A tiny (2-layer, 32-wide) character model saved as a checkpoint in <paramref name="folder"/>.</summary>
    private static void SaveTinyCheckpoint(string folder, long seed)
    {
        var architecture = new GptConfig(VocabSize: 65, BlockSize: 32, Layers: 2, Heads: 2, Embedding: 32);
        using var model = new Gpt(architecture, seed);
        var vocabulary = CharTokenizer.FromText(File.ReadAllText(TestModels.TinyShakespeare)).Vocabulary;
        ModelCheckpoint.Save(folder, model, new CheckpointConfig(Path.GetFileName(folder), "text", "a tiny test model", architecture, new TokenizerInfo("char", vocabulary)));
    }
}
