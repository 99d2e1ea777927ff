namespace PoolAI.Volumes;

/// <summary>One version of a file, pinned for reading (<see cref="VolumeClient.OpenAsync"/>).</summary>
public sealed class VolumeFileHandle
{
    private readonly VolumeClient _client;
    private readonly IVolumeGrain _grain;
    private readonly string _volume;

    internal VolumeFileHandle(VolumeClient client, IVolumeGrain grain, string volume, FileLayout layout)
    {
        _client = client;
        _grain = grain;
        _volume = volume;
        Layout = layout;
    }

    /// <summary>The version.</summary>
    public VolumeFile File => Layout.File;

    /// <summary>Where its bytes are.</summary>
    public FileLayout Layout { get; }

    /// <summary>Bytes [<paramref name="offset"/>, <paramref name="offset"/> + <paramref name="length"/>) of this version (to the end when <paramref name="length"/> is −1).</summary>
    public Task<VolumeReadStream> OpenReadAsync(long offset = 0, long length = -1) => _client.OpenReadAsync(_grain, _volume, Layout, offset, length);
}
