using PoolAI.Inference;
using PoolAI.Placement;

namespace PoolAI.Jobs;

/// <summary>
/// How many generations of a model the cluster can run at once: the sum of the slots that active
/// silos advertising the model declare in their silo metadata, leaving out silos whose worker takes no
/// new work or whose lease expired (<see cref="WorkerAvailability"/>).
/// </summary>
public sealed class ServingCapacity(IClusterMembershipService membership, SiloMetadataLookup metadata, WorkerAvailability availability)
{
    /// <summary>Concurrent generations of <paramref name="model"/> the available active silos offer.</summary>
    public int For(string model) => Silos(model).Sum(silo => silo.Slots);

    /// <summary>The available active silos that serve <paramref name="model"/>, with their declared slots, worker and device.</summary>
    public IReadOnlyList<ServingSilo> Silos(string model) => membership.CurrentSnapshot.Members.Values
        .Where(member => member.Status == SiloStatus.Active)
        .Select(member => (member.SiloAddress, Metadata: metadata.Of(member.SiloAddress)))
        .Where(silo => SiloCapabilities.Serves(silo.Metadata, model) && availability.IsAvailable(silo.SiloAddress, silo.Metadata))
        .Select(silo => new ServingSilo(
            silo.SiloAddress.ToString(),
            SiloCapabilities.Slots(silo.Metadata),
            silo.Metadata.GetValueOrDefault(PoolKeys.WorkerMetadata),
            silo.Metadata.GetValueOrDefault(PoolKeys.DeviceMetadata) ?? "cpu"))
        .ToList();
}

/// <summary>A silo that serves a model.</summary>
/// <param name="Silo">Its address, as <see cref="SiloAddress.ToString"/> writes it.</param>
/// <param name="Slots">Generations it declares it runs at once.</param>
/// <param name="Worker">Its worker id, when advertised.</param>
/// <param name="Device">Its device class (<c>cpu</c>, <c>cuda</c>).</param>
public sealed record ServingSilo(string Silo, int Slots, string? Worker, string Device);
