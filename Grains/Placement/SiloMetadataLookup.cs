using System.Collections.Concurrent;
using Orleans.Runtime.MembershipService.SiloMetadata;

namespace PoolAI.Placement;

/// <summary>
/// Reads a silo's metadata: this silo's own from what it advertises (known from the start), any other's from Orleans'
/// metadata cache (filled shortly after that silo joins; empty until then). Silo metadata is fixed when a silo starts,
/// but the models a miner serves can grow while it runs (a model mirrored onto it): where the worker board
/// (<see cref="WorkerAvailability.ServedModelsOf"/>) lists other models than the metadata, the answer has the board's
/// list under <see cref="PoolKeys.ModelsMetadata"/>. The same inputs give the same dictionary instance, so callers may
/// compare answers by reference.
/// </summary>
public sealed class SiloMetadataLookup(ISiloMetadataCache cache, ILocalSiloDetails local, LocalSiloMetadata own, WorkerAvailability availability)
{
    private readonly ConcurrentDictionary<SiloAddress, Overlay> _overlays = new();

    /// <summary>The metadata of <paramref name="silo"/>, with the models its worker serves now; empty when not known yet.</summary>
    public IReadOnlyDictionary<string, string> Of(SiloAddress silo)
    {
        var advertised = silo.Equals(local.SiloAddress) ? own.Values : cache.GetSiloMetadata(silo).Metadata;
        if (!advertised.TryGetValue(PoolKeys.WorkerMetadata, out var worker) || !advertised.TryGetValue(PoolKeys.ModelsMetadata, out var started)
            || availability.ServedModelsOf(worker) is not { } now || now == started)
        {
            return advertised;
        }

        if (_overlays.TryGetValue(silo, out var overlay) && ReferenceEquals(overlay.Advertised, advertised) && overlay.Models == now)
            return overlay.Metadata;
        var merged = new Dictionary<string, string>(advertised, StringComparer.Ordinal) { [PoolKeys.ModelsMetadata] = now };
        _overlays[silo] = new Overlay(advertised, now, merged);
        return merged;
    }

    private sealed record Overlay(IReadOnlyDictionary<string, string> Advertised, string Models, IReadOnlyDictionary<string, string> Metadata);
}

/// <summary>The metadata this silo advertises (PoolAI's keys), registered when the silo is configured.</summary>
/// <param name="Values">Key/value pairs as in <see cref="PoolKeys"/>.</param>
public sealed record LocalSiloMetadata(IReadOnlyDictionary<string, string> Values);
