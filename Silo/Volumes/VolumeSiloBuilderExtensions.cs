using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using PoolAI.Hosting;
using PoolAI.Silo.Hosting;
using PoolAI.Volumes.Stores;

namespace PoolAI.Volumes;

/// <summary>Registers storage volumes on a silo.</summary>
public static class VolumeSiloBuilderExtensions
{
    /// <summary>
    /// Storage volumes: on every silo the placement that pins a chunk store to its silo; on silos that
    /// <paramref name="holdsShards"/> the chunk store (<c>PoolAI:Volumes:Store</c>, shards under
    /// <c>$POOLAI_HOME/chunks</c>) announced to the store directory; on silos that <paramref name="hostsState"/> the
    /// volume settings (<c>PoolAI:Volumes</c>, validated at start), the key ring and the maintenance rounds.
    /// </summary>
    public static ISiloBuilder AddPoolVolumes(this ISiloBuilder silo, IConfiguration configuration, bool holdsShards, bool hostsState)
    {
        silo.Services.AddPlacementDirector<WorkerPinnedPlacement, WorkerPinnedPlacementDirector>();
        silo.Services.AddOptions<VolumeOptions>().Bind(configuration.GetSection(VolumeOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        silo.Services.AddOptions<ChunkStoreOptions>().Bind(configuration.GetSection(ChunkStoreOptions.Section));
        silo.Services.AddSingleton(_ => new VolumeKeyring(configuration));
        var store = configuration.GetSection(ChunkStoreOptions.Section).Get<ChunkStoreOptions>() ?? new ChunkStoreOptions();
        if (holdsShards && store.Enabled)
        {
            if (store.Drives is < 1 or > 64)
                throw new PoolConfigurationException($"{ChunkStoreOptions.Section}:Drives", $"must be 1 to 64; was {store.Drives}");
            if (store.DataEndpoint is { Length: > 0 } endpoint && !string.Equals(endpoint, "none", StringComparison.OrdinalIgnoreCase)
                && !(Uri.TryCreate(endpoint, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https" && uri.AbsolutePath == "/" && uri.Query.Length == 0))
                throw new PoolConfigurationException($"{ChunkStoreOptions.Section}:DataEndpoint", $"must be empty, 'none' or an http(s) URL of a host and port (http://10.0.0.5:8080); was '{endpoint}'");
            silo.Services.AddSingleton(services =>
            {
                var o = services.GetRequiredService<IOptions<ChunkStoreOptions>>().Value;
                var worker = services.GetRequiredService<IOptions<PoolAI.Workers.WorkerIdentity>>().Value.WorkerId;
                return new ShardStoreSet(worker, o.Directory is { Length: > 0 } d ? d : Path.Combine(PoolSecrets.Home, "chunks"), o.Drives, o.FlushToDisk);
            });
            silo.Services.AddSingleton(services => services.GetRequiredService<ShardStoreSet>().Primary);
            silo.Services.AddSingleton<ShardTransportServer>();
            silo.Services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>, ChunkStoreAnnouncer>();
        }

        if (hostsState)
            silo.Services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>, VolumeSupervisor>();
        return silo;
    }
}
