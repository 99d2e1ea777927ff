using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;
using PoolAI.Client.Sdk;
using PoolAI.Jobs;
using PoolAI.Silo.Hosting;

namespace PoolAI.Tests;

/// <summary>One all-in-one test cluster (storage in its process, provider <c>process</c>) shared by the grain tests; each test uses fresh job ids.</summary>
public static class SharedPool
{
    private static readonly SemaphoreSlim Gate = new(1, 1);
    private static InProcessTestCluster? _cluster;

    /// <summary>Worker id of the shared cluster's silo.</summary>
    public const string WorkerId = "shared-test-worker";

    public static async Task<InProcessTestCluster> ClusterAsync()
    {
        await Gate.WaitAsync();
        try
        {
            if (_cluster is null)
            {
                var cluster = TestPools.Build(1, _ => TestPools.Configuration("all-in-one", slots: 2, storage: "process", workerId: WorkerId));
                await cluster.DeployAsync();
                _cluster = cluster;
            }

            return _cluster;
        }
        finally
        {
            Gate.Release();
        }
    }

    public static async Task<PoolClient> ClientAsync() => new((await ClusterAsync()).Client);

    public static async Task DisposeAsync()
    {
        if (_cluster is not null)
            await _cluster.DisposeAsync();
    }
}

/// <summary>Builds test clusters configured the way real silos are, through <see cref="PoolSiloBuilderExtensions.AddPoolAI"/>.</summary>
public static class TestPools
{
    /// <summary>The volume master key of every test silo in this process (so none writes one into the user's pool home).</summary>
    private static readonly string VolumeMasterKey = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));

    /// <summary>The folder of this test run's chunk stores, one subfolder per worker id; deleted when the run ends.</summary>
    public static string StoresRoot { get; } = Path.Combine(Path.GetTempPath(), $"poolai-test-stores-{Guid.NewGuid():N}");

    /// <summary>
    /// A silo configuration: role, storage, slots, and optionally which models it serves. A silo that holds shards keeps
    /// them under <see cref="StoresRoot"/>, one folder per worker id (artifacts that jobs store go to volumes), not in
    /// the user's pool home.
    /// </summary>
    public static IConfiguration Configuration(string role, int slots = 2, string storage = "memory", string? connectionString = null, string? models = null, string? workerId = null, string? database = null, IReadOnlyDictionary<string, string?>? extra = null)
    {
        workerId ??= $"test-{role}-{Guid.NewGuid():N}";
        var values = new Dictionary<string, string?>
        {
            ["PoolAI:Role"] = role,
            ["PoolAI:Storage:Provider"] = storage,
            ["PoolAI:Storage:ConnectionString"] = connectionString,
            ["PoolAI:Miner:Slots"] = slots.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["PoolAI:Worker:WorkerId"] = workerId,
            ["PoolAI:Volumes:Store:Directory"] = Path.Combine(StoresRoot, workerId),
            ["PoolAI:Volumes:Store:FlushToDisk"] = "false",
            ["PoolAI:Volumes:MasterKey"] = VolumeMasterKey,
            ["PoolAI:Database:ConnectionString"] = database,
            // Verification runs check jobs on other workers; tests that are about it turn it on.
            ["PoolAI:Rewards:VerificationShare"] = "0",
            // Tests share clusters and reuse settings; a job served from the result cache has no attempt and pays no
            // one, so only tests that are about the cache turn it on.
            ["PoolAI:Jobs:ResultCacheTimeToLive"] = "00:00:00",
        };
        if (models is not null)
            values["PoolAI:Miner:Models:0"] = models;
        foreach (var (key, value) in extra ?? new Dictionary<string, string?>())
            values[key] = value;
        return new ConfigurationBuilder().AddInMemoryCollection(values).Build();
    }

    /// <summary>A cluster of <paramref name="silos"/> silos; silo i gets <paramref name="configure"/>(i). Clusters that share stored state share a <paramref name="serviceId"/>.</summary>
    public static InProcessTestCluster Build(int silos, Func<int, IConfiguration> configure, string? serviceId = null, Action<int, Orleans.Hosting.ISiloBuilder>? customize = null)
    {
        var builder = new InProcessTestClusterBuilder((short)silos);
        if (serviceId is not null)
            builder.Options.ServiceId = serviceId;
        builder.ConfigureSilo((options, silo) =>
        {
            var index = int.Parse(options.SiloName.AsSpan("Silo_".Length), System.Globalization.CultureInfo.InvariantCulture);
            silo.AddPoolAI(configure(index));
            customize?.Invoke(index, silo);
        });
        return builder.Build();
    }

    /// <summary>
    /// Waits until the coordinator (silo 0) counts <paramref name="slots"/> slots for the test model (status changes
    /// reach it within a second), after every silo — each is a gateway for the test client — has learnt the
    /// coordinator's metadata, so grains are placed from any of them.
    /// </summary>
    public static async Task WaitForCapacityAsync(InProcessTestCluster cluster, int slots)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        var coordinator = cluster.Silos[0].SiloAddress;
        while (!cluster.Silos.All(s => s.ServiceProvider.GetRequiredService<Placement.SiloMetadataLookup>().Of(coordinator).ContainsKey(PoolKeys.RoleMetadata)))
        {
            Assert.IsTrue(DateTime.UtcNow < deadline, "the silos did not learn the coordinator's metadata");
            await Task.Delay(100);
        }

        var capacity = cluster.Silos[0].ServiceProvider.GetRequiredService<PoolAI.Jobs.ServingCapacity>();
        while (capacity.For(TestModels.Shakespeare) != slots)
        {
            Assert.IsTrue(DateTime.UtcNow < deadline, $"capacity stayed {capacity.For(TestModels.Shakespeare)}, expected {slots}");
            await Task.Delay(100);
        }
    }

    /// <summary>
    /// Runs a job on a one-silo cluster with the given durable storage, stops the whole cluster, starts a
    /// new one on the same storage, and returns the job as finished and as read back by the new cluster.
    /// </summary>
    public static async Task<(JobView Done, JobView Reloaded)> RunJobAcrossRestartAsync(string storage, string? connectionString = null, string? database = null)
    {
        var serviceId = $"poolai-test-{Guid.NewGuid():N}";
        IConfiguration Configure(int _) => Configuration("all-in-one", storage: storage, connectionString: connectionString, database: database);
        JobView done;
        await using (var first = Build(1, Configure, serviceId))
        {
            await first.DeployAsync();
            done = await new PoolClient(first.Client).GenerateAsync(TestModels.Shakespeare, TestModels.Settings(maxTokens: 30, seed: 9));
        }

        await using var second = Build(1, Configure, serviceId);
        await second.DeployAsync();
        return (done, await new PoolClient(second.Client).GetAsync(done.Id));
    }
}
