using System.Security.Cryptography;
using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;
using PoolAI.Volumes;
using PoolAI.Volumes.Stores;

namespace PoolAI.Tests.Volumes;

/// <summary>
/// An in-process cluster for volume tests: silo 0 a coordinator, silos 1…<c>miners</c> miners each with its own chunk
/// store folder, small shards (64 KiB) so that small files span many stripes, and maintenance checks every second.
/// </summary>
public sealed class VolumeCluster : IAsyncDisposable
{
    /// <summary>Shard size the test volumes use.</summary>
    public const int ShardBytes = 64 << 10;

    private VolumeCluster(InProcessTestCluster cluster, string root)
    {
        Cluster = cluster;
        Root = root;
        Volumes = new VolumeClient(cluster.Client);
    }

    /// <summary>The cluster.</summary>
    public InProcessTestCluster Cluster { get; }

    /// <summary>Folder holding every miner's chunk store.</summary>
    public string Root { get; }

    /// <summary>A volume client on the cluster's client.</summary>
    public VolumeClient Volumes { get; }

    /// <summary>Starts a coordinator and <paramref name="miners"/> miners and waits until every store is announced.</summary>
    /// <param name="miners">Miners, silos 1…<paramref name="miners"/>.</param>
    /// <param name="extra">Settings every silo gets.</param>
    /// <param name="perSilo">Settings silo i gets on top (its own models directory, say); null for none.</param>
    public static async Task<VolumeCluster> StartAsync(int miners, IReadOnlyDictionary<string, string?>? extra = null, Func<int, IReadOnlyDictionary<string, string?>>? perSilo = null)
    {
        var root = Directory.CreateTempSubdirectory("poolai-volumes-").FullName;
        var masterKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        var cluster = TestPools.Build(miners + 1, i =>
        {
            var settings = new Dictionary<string, string?>
            {
                ["PoolAI:Volumes:MasterKey"] = masterKey,
                ["PoolAI:Volumes:CheckInterval"] = "00:00:01",
                ["PoolAI:Volumes:RebuildDelay"] = "00:00:00",
                ["PoolAI:Volumes:AuditPeriod"] = "00:00:00",
                ["PoolAI:Volumes:ScrubInterval"] = "00:00:00",
                ["PoolAI:Volumes:Store:Directory"] = Path.Combine(root, $"store-{i}"),
                ["PoolAI:Volumes:Store:FlushToDisk"] = "false",
            };
            foreach (var (key, value) in extra ?? new Dictionary<string, string?>())
                settings[key] = value;
            foreach (var (key, value) in perSilo?.Invoke(i) ?? new Dictionary<string, string?>())
                settings[key] = value;
            return TestPools.Configuration(i == 0 ? "coordinator" : "miner", workerId: $"store-{i}", extra: settings);
        });
        await cluster.DeployAsync();
        var pool = new VolumeCluster(cluster, root);
        await pool.WaitForStoresAsync(miners);
        return pool;
    }

    /// <summary>The worker id (store id) of silo <paramref name="index"/>.</summary>
    public static string StoreOf(int index) => $"store-{index}";

    /// <summary>The shard store in silo <paramref name="index"/>'s process.</summary>
    public ShardStore StoreIn(int index) => Cluster.Silos[index].ServiceProvider.GetRequiredService<ShardStore>();

    /// <summary>Waits until <paramref name="live"/> stores are alive in the directory.</summary>
    public async Task WaitForStoresAsync(int live)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            var stores = await Cluster.Client.GetGrain<IStoreDirectoryGrain>(IStoreDirectoryGrain.Default).GetStoresAsync();
            if (stores.Count(s => s.Alive) == live)
                return;
            Assert.IsTrue(DateTime.UtcNow < deadline, $"{stores.Count(s => s.Alive)} live stores, expected {live}");
            await Task.Delay(200);
        }
    }

    /// <summary>Waits until every stripe of <paramref name="volume"/> is healthy and no rebuild runs; returns the health.</summary>
    public async Task<VolumeHealth> WaitForHealthyAsync(string volume, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var health = await Volumes.Volume(volume).GetHealthAsync();
            if (health.Healthy == health.Stripes && health.Repair is not { Running: true })
                return health;
            Assert.IsTrue(DateTime.UtcNow < deadline, $"volume {volume}: {health.Healthy}/{health.Stripes} healthy, {health.Degraded} degraded, {health.Lost} lost; rebuild {health.Repair}");
            await Task.Delay(250);
        }
    }

    /// <summary>Random bytes.</summary>
    public static byte[] Bytes(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    /// <summary>Writes <paramref name="content"/> to a file.</summary>
    public Task<VolumeFile> PutAsync(string volume, string path, byte[] content) => Volumes.WriteAsync(volume, path, new MemoryStream(content));

    /// <summary>Reads a whole file.</summary>
    public async Task<byte[]> GetAsync(string volume, string path)
    {
        var buffer = new MemoryStream();
        await Volumes.ReadAsync(volume, path, buffer);
        return buffer.ToArray();
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await Cluster.DisposeAsync();
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
