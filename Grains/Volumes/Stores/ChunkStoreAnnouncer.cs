using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PoolAI.Hosting;

namespace PoolAI.Volumes.Stores;

/// <summary>
/// Announces this silo's chunk stores to the store directory once the silo is active and every
/// <see cref="StoreDirectory.RefreshInterval"/> after, so a coordinator that restarted learns them again. Each store's
/// grain is called first, so its activation exists (placed here and in the grain directory) before any writer or rebuild
/// is told about it: a silo that just joined announces a store that answers, rather than one whose first shard waits for
/// the cluster to settle. The "Chunk store … holds" line is logged once the first announcement went through. Each store
/// is announced with the silo's shard transport endpoint once it is known (<see cref="ShardTransportServer"/>), and
/// again at once when it becomes known.
/// </summary>
public sealed partial class ChunkStoreAnnouncer(
    IGrainFactory grains,
    ILocalSiloDetails silo,
    IOptions<ChunkStoreOptions> options,
    ShardStoreSet stores,
    ShardTransportServer transport,
    ILogger<ChunkStoreAnnouncer> logger) : ILifecycleParticipant<ISiloLifecycle>
{
    private readonly CancellationTokenSource _stopping = new();
    private readonly SemaphoreSlim _announcing = new(1, 1);
    private Task? _loop;
    private bool _announced;

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
        // The web server starts after the silo: once its address is known, announce at once rather than at the next refresh.
        transport.EndpointChanged += () => _ = Task.Run(async () =>
        {
            try
            {
                await AnnounceOnceAsync();
                if (transport.Announced is { } endpoint)
                    LogTransport(logger, endpoint);
            }
            catch (Exception e)
            {
                LogAnnounceFailed(logger, e.Message);
            }
        });
        return PeriodicWork.RunAsync(StoreDirectory.RefreshInterval, runAtStart: true, AnnounceOnceAsync, e => LogAnnounceFailed(logger, e.Message), _stopping.Token);
    }

    private async Task AnnounceOnceAsync()
    {
        await _announcing.WaitAsync();
        try
        {
            var directory = grains.GetGrain<IStoreDirectoryGrain>(IStoreDirectoryGrain.Default);
            transport.Key ??= await directory.GetTransportKeyAsync();
            foreach (var (id, _) in stores.Stores)
            {
                if (!_announced)
                    await ShardStores.Of(grains, id).GetUsageAsync();
                await directory.RegisterAsync(new StoreRegistration(id, Environment.MachineName.ToLowerInvariant(), StoreKind.Trusted, silo.SiloAddress, options.Value.CapacityBytes, transport.Announced));
            }

            if (!_announced)
            {
                _announced = true;
                foreach (var (id, store) in stores.Stores)
                    LogStore(logger, id, store.Root, store.Usage().Bytes, transport.Announced ?? "none yet");
            }
        }
        finally
        {
            _announcing.Release();
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Chunk store {Store} at {Root} holds {Bytes} bytes of shards (shard transport: {Endpoint})")]
    private static partial void LogStore(ILogger logger, string store, string root, long bytes, string endpoint);

    [LoggerMessage(Level = LogLevel.Information, Message = "Shard transport at {Endpoint} announced")]
    private static partial void LogTransport(ILogger logger, string endpoint);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not announce the chunk store (retrying): {Reason}")]
    private static partial void LogAnnounceFailed(ILogger logger, string reason);
}
