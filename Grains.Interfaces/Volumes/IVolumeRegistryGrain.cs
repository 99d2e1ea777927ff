namespace PoolAI.Volumes;

/// <summary>The names of the pool's volumes (key <see cref="Default"/>, persistent), for listings and the coordinators' maintenance rounds.</summary>
[Alias("poolai.IVolumeRegistryGrain")]
public interface IVolumeRegistryGrain : IGrainWithStringKey
{
    /// <summary>The key of the one registry.</summary>
    public const string Default = "default";

    /// <summary>Records a new volume.</summary>
    [Alias("Add")]
    Task AddAsync(string volume);

    /// <summary>Every volume name, sorted.</summary>
    [Alias("List")]
    Task<IReadOnlyList<string>> ListAsync();
}
