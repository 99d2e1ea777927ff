using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PoolAI.Jobs;
using PoolAI.Volumes;

namespace PoolAI.Artifacts;

/// <summary>
/// Artifact content in a volume: file <c>artifacts/&lt;sha256&gt;</c> (<see cref="PathOf"/>) of volume
/// <see cref="ArtifactOptions.Volume"/>, which the pool creates on first use with the layout
/// <see cref="ArtifactLayouts.Choose"/> picks for the stores alive then. Volumes are usable while the volume exists (or
/// can be created) and enough stores are alive for its layout; otherwise content stays in grain storage.
/// </summary>
public sealed partial class ArtifactVolume(IGrainFactory grains, IOptions<ArtifactOptions> options, ILogger<ArtifactVolume> logger)
{
    /// <summary>The folder of artifact files in the volume.</summary>
    public const string Folder = "artifacts";

    // One stripe read ahead while a chunk is served: a coordinator serves many artifacts at once.
    private readonly VolumeClient _client = new(grains) { ReadAhead = 2 };

    /// <summary>The volume new artifact content goes to (<see cref="ArtifactOptions.Volume"/>).</summary>
    public string Name => options.Value.Volume;

    /// <summary>The path of artifact <paramref name="artifactId"/>'s content in its volume: <c>artifacts/&lt;id&gt;</c>.</summary>
    public static string PathOf(string artifactId) => $"{Folder}/{artifactId}";

    /// <summary>
    /// Opens a write of artifact <paramref name="artifactId"/>'s file in volume <see cref="Name"/>, creating the volume
    /// first if it does not exist; null when volumes are not usable now (too few live stores for the volume's layout,
    /// or none at all).
    /// </summary>
    public async Task<VolumeWriteStream?> TryOpenWriteAsync(string artifactId)
    {
        try
        {
            return await _client.OpenWriteAsync(Name, PathOf(artifactId));
        }
        catch (VolumeNotFoundException e) when (e.Path is null)
        {
            // Not created yet: create it below.
        }
        catch (JobValidationException e) when (e.Field == "layout")
        {
            LogNotUsable(logger, Name, e.Rule);
            return null;
        }

        if (!await TryCreateAsync())
            return null;
        try
        {
            return await _client.OpenWriteAsync(Name, PathOf(artifactId));
        }
        catch (JobValidationException e) when (e.Field == "layout")
        {
            LogNotUsable(logger, Name, e.Rule);
            return null;
        }
    }

    /// <summary>
    /// Creates volume <see cref="Name"/> unless it exists; true when it exists now. Race-safe: the volume grain creates
    /// a volume once, so of coordinators or uploads creating it at once one creates it and the others find it made.
    /// False when too few stores are alive for <see cref="ArtifactOptions.VolumeLayout"/>.
    /// </summary>
    public async Task<bool> TryCreateAsync()
    {
        var stores = await grains.GetGrain<IStoreDirectoryGrain>(IStoreDirectoryGrain.Default).GetStoresAsync();
        var live = stores.Count(s => s.Alive);
        if (ArtifactLayouts.Choose(options.Value.VolumeLayout, live) is not { } layout)
        {
            LogNotUsable(logger, Name, $"{live} live store{(live == 1 ? "" : "s")} cannot hold layout '{options.Value.VolumeLayout}'");
            return false;
        }

        try
        {
            var view = await _client.CreateAsync(Name, new VolumeSpec(layout.ToString()));
            LogCreated(logger, Name, view.Layout.ToString(), live);
            return true;
        }
        catch (JobValidationException e) when (e.Field == "volume")
        {
            // Another upload or coordinator created it first (the name itself was checked at start): it exists.
            await _client.Volume(Name).DescribeAsync();
            return true;
        }
        catch (JobValidationException e) when (e.Field == "layout")
        {
            LogNotUsable(logger, Name, e.Rule);
            return false;
        }
    }

    /// <summary>Pins the current version of artifact <paramref name="artifactId"/>'s file in <paramref name="volume"/> for reading.</summary>
    /// <exception cref="VolumeNotFoundException">No such volume or file.</exception>
    public Task<VolumeFileHandle> OpenAsync(string volume, string artifactId) => _client.OpenAsync(volume, PathOf(artifactId));

    /// <summary>Deletes artifact <paramref name="artifactId"/>'s file from <paramref name="volume"/> (its shards go afterwards); false when there was none.</summary>
    public async Task<bool> DeleteAsync(string volume, string artifactId)
    {
        try
        {
            return await _client.Volume(volume).DeleteFileAsync(PathOf(artifactId));
        }
        catch (VolumeNotFoundException)
        {
            return false;
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Artifact volume {Volume} created with layout {Layout} ({Stores} live stores)")]
    private static partial void LogCreated(ILogger logger, string volume, string layout, int stores);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Artifact volume {Volume} not usable now, content stays in grain storage: {Reason}")]
    private static partial void LogNotUsable(ILogger logger, string volume, string reason);
}
