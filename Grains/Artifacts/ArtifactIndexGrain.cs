using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orleans.Storage;
using PoolAI.Jobs;
using PoolAI.Placement;
using PoolAI.Storage;

namespace PoolAI.Artifacts;

/// <summary>An artifact as the index lists it.</summary>
/// <param name="Key">Its page key: the first 16 bytes of its SHA-256.</param>
/// <param name="ArtifactId">Its id (hex SHA-256).</param>
/// <param name="Size">Its content, bytes.</param>
/// <param name="RetainUntil">When it may be deleted.</param>
[GenerateSerializer, Immutable, Alias("poolai.ArtifactIndexEntry")]
public sealed record ArtifactIndexEntry(
    [property: Id(0)] Guid Key,
    [property: Id(1)] string ArtifactId,
    [property: Id(2)] long Size,
    [property: Id(3)] DateTimeOffset RetainUntil);

/// <summary>The artifact index's persisted state (state name <c>artifactindex</c>); entries are on pages.</summary>
[GenerateSerializer, Alias("poolai.ArtifactIndexState")]
public sealed class ArtifactIndexState
{
    /// <summary>Page ids the entries may be stored on: records <c>artifactindex-page-0</c> … (see <see cref="PagedRecords{TEntry}"/>).</summary>
    [Id(0)] public int PageCount { get; set; }
}

/// <summary>
/// The pool's artifact index on a coordinator (see <see cref="IArtifactIndexGrain"/>), written in pages of entries
/// (<see cref="PagedRecords{TEntry}"/>) so a store of many artifacts is not rewritten whole. Woken when a coordinator
/// starts (<see cref="Jobs.QueueRecovery"/>), it sweeps every <see cref="IArtifactIndexGrain.SweepInterval"/> while active.
/// </summary>
[CoordinatorFilter]
public sealed partial class ArtifactIndexGrain(
    [PersistentState("artifactindex", PoolKeys.Storage)] IPersistentState<ArtifactIndexState> state,
    IServiceProvider services,
    TimeProvider time,
    ILogger<ArtifactIndexGrain> logger) : Grain, IArtifactIndexGrain
{
    /// <summary>The state name of the pages without the page number.</summary>
    public const string PagePrefix = "artifactindex-page";

    private readonly SerializedWrites<ArtifactIndexState> _writes = new(state);
    private readonly Dictionary<Guid, ArtifactIndexEntry> _entries = [];
    private PagedRecords<ArtifactIndexEntry> _records = null!;

    /// <inheritdoc />
    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _records = new PagedRecords<ArtifactIndexEntry>(services.GetRequiredKeyedService<IGrainStorage>(PoolKeys.Storage), this.GetGrainId(), PagePrefix);
        foreach (var (page, entry) in await _records.ReadAsync(state.State.PageCount))
        {
            if (_records.Pages.Load(page, entry.Key) || entry.RetainUntil > _entries[entry.Key].RetainUntil)
                _entries[entry.Key] = entry;
        }

        this.RegisterGrainTimer(async () => await SweepAsync(), IArtifactIndexGrain.SweepInterval, IArtifactIndexGrain.SweepInterval);
    }

    /// <inheritdoc />
    public async Task RecordAsync(ArtifactRef artifact, DateTimeOffset retainUntil)
    {
        var key = KeyOf(artifact.Id);
        if (_entries.ContainsKey(key))
            _records.Pages.Changed(key);
        else
            _records.Pages.Add(key);
        _entries[key] = new ArtifactIndexEntry(key, artifact.Id, artifact.Size, retainUntil);
        await WriteAsync();
    }

    /// <inheritdoc />
    public async Task ForgetAsync(string artifactId)
    {
        var key = KeyOf(artifactId);
        if (!_entries.Remove(key))
            return;
        _records.Pages.Remove(key);
        await WriteAsync();
    }

    /// <inheritdoc />
    public Task<ArtifactStoreStats> GetStatsAsync() => Task.FromResult(new ArtifactStoreStats(_entries.Count, _entries.Values.Sum(e => e.Size)));

    /// <inheritdoc />
    public async Task<int> SweepAsync()
    {
        var now = time.GetUtcNow();
        var deleted = 0;
        foreach (var due in _entries.Values.Where(e => e.RetainUntil <= now).ToList())
        {
            try
            {
                // The artifact decides: a hold may have moved its time.
                if (await GrainFactory.GetGrain<IArtifactGrain>(due.ArtifactId).SweepAsync() is { } next)
                {
                    _entries[due.Key] = due with { RetainUntil = next };
                    _records.Pages.Changed(due.Key);
                    await WriteAsync();
                }
                else
                {
                    deleted++;
                    await ForgetAsync(due.ArtifactId);
                }
            }
            catch (Exception ex)
            {
                LogSweepFailed(due.ArtifactId, ex);
            }
        }

        return deleted;
    }

    private async Task WriteAsync()
    {
        var pages = _records.TakeChanges(key => _entries.GetValueOrDefault(key));
        if (state.State.PageCount != _records.Pages.PageCount)
        {
            var stored = state.State.PageCount;
            state.State.PageCount = _records.Pages.PageCount;
            try
            {
                await _writes.WriteAsync();
            }
            catch
            {
                state.State.PageCount = stored;
                pages.Abandon();
                throw;
            }
        }

        await pages.RunAsync();
    }

    /// <summary>The page key of an artifact: the first 16 bytes of its SHA-256 (ids that are not hex keep their text's hash).</summary>
    private static Guid KeyOf(string artifactId) => ArtifactLimits.IsId(artifactId)
        ? new Guid(Convert.FromHexString(artifactId.AsSpan(0, 32)))
        : new Guid(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(artifactId)).AsSpan(0, 16));

    [LoggerMessage(Level = LogLevel.Warning, Message = "Artifact {ArtifactId} could not be swept; trying again at the next sweep")]
    private partial void LogSweepFailed(string artifactId, Exception exception);
}
