using Orleans.Runtime.MembershipService.SiloMetadata;

namespace PoolAI.Placement;

/// <summary>
/// Reads a silo's metadata: this silo's own from what it advertises (known from the start), any other's from Orleans'
/// metadata cache (filled shortly after that silo joins; empty until then).
/// </summary>
public sealed class SiloMetadataLookup(ISiloMetadataCache cache, ILocalSiloDetails local, LocalSiloMetadata own)
{
    /// <summary>The metadata of <paramref name="silo"/>; empty when not known yet.</summary>
    public IReadOnlyDictionary<string, string> Of(SiloAddress silo) =>
        silo.Equals(local.SiloAddress) ? own.Values : cache.GetSiloMetadata(silo).Metadata;
}

/// <summary>The metadata this silo advertises (PoolAI's keys), registered when the silo is configured.</summary>
/// <param name="Values">Key/value pairs as in <see cref="PoolKeys"/>.</param>
public sealed record LocalSiloMetadata(IReadOnlyDictionary<string, string> Values);
