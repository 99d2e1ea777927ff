using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PoolAI.Hosting;

namespace PoolAI.Volumes.Stores;

/// <summary>
/// Announces this silo's chunk stores to the store directory once the silo is active and every
/// <see cref="StoreDirectory.RefreshInterval"/> after, so a coordinator that restarted learns them again. Each store's
/// grain is called first, so its activation exists (placed here and in the grain directory) before any writer or rebuild
/// is told about it: a silo that just joined announces a store that answers, rather than one whose first shard waits for
/// the cluster to settle. The "Chunk store … holds" line is logged once the first announcement went through.
/// </summary>
public sealed partial class ChunkStoreAnnouncer(
    IGrainFactory grains,
    ILocalSiloDetails silo,
    IOptions<ChunkStoreOptions> options,
    ShardStoreSet stores,
    ILogger<ChunkStoreAnnouncer> logger) : ILifecycleParticipant<ISiloLifecycle>
{
    private readonly CancellationTokenSource _stopping = new();
    private Task? _loop;

    /// <inheritdoc />
    public void Participate(ISiloLifecycle lifecycle) => lifecycle.Subscribe(
        nameof(ChunkStoreAnnouncer),
        ServiceLifecycleStage.Active,
        _ =>
        {
            _loop = Task.Run(AnnounceAsync);
            return Task.CompletedTask;
        },
        async _ =>
        {
            await _stopping.CancelAsync();
            if (_loop is not null)
                await _loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        });

    private Task AnnounceAsync()
    {
        var registrations = stores.Stores.Select(s => new StoreRegistration(s.Key, Environment.MachineName.ToLowerInvariant(), StoreKind.Trusted, silo.SiloAddress, options.Value.CapacityBytes)).ToList();
        var directory = grains.GetGrain<IStoreDirectoryGrain>(IStoreDirectoryGrain.Default);
        var announced = false;
        return PeriodicWork.RunAsync(StoreDirectory.RefreshInterval, runAtStart: true, async () =>
        {
            foreach (var registration in registrations)
            {
                if (!announced)
                    await ShardStores.Of(grains, registration.StoreId).GetUsageAsync();
                await directory.RegisterAsync(registration);
            }

            if (!announced)
            {
                announced = true;
                foreach (var (id, store) in stores.Stores)
                    LogStore(logger, id, store.Root, store.Usage().Bytes);
            }
        }, e => LogAnnounceFailed(logger, e.Message), _stopping.Token);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Chunk store {Store} at {Root} holds {Bytes} bytes of shards")]
    private static partial void LogStore(ILogger logger, string store, string root, long bytes);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not announce the chunk store (retrying): {Reason}")]
    private static partial void LogAnnounceFailed(ILogger logger, string reason);
}
