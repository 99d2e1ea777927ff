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

    /// <summary>The available active silos that serve <paramref name="model"/>, each with its address (as <see cref="SiloAddress.ToString"/> writes it) and declared slots.</summary>
    public IReadOnlyList<(string Silo, int Slots)> Silos(string model) => membership.CurrentSnapshot.Members.Values
        .Where(member => member.Status == SiloStatus.Active)
        .Select(member => (member.SiloAddress, Metadata: metadata.Of(member.SiloAddress)))
        .Where(silo => SiloCapabilities.Serves(silo.Metadata, model) && availability.IsAvailable(silo.SiloAddress, silo.Metadata))
        .Select(silo => (silo.SiloAddress.ToString(), SiloCapabilities.Slots(silo.Metadata)))
        .ToList();
}
