using Orleans.Runtime.MembershipService.SiloMetadata;
using PoolAI.Inference;
using PoolAI.Placement;

namespace PoolAI.Jobs;

/// <summary>
/// How many generations of a model the cluster can run at once: the sum of the slots that active
/// silos advertising the model declare in their silo metadata, leaving out silos whose worker takes no
/// new work or whose lease expired (<see cref="WorkerAvailability"/>).
/// </summary>
public sealed class ServingCapacity(IClusterMembershipService membership, ISiloMetadataCache metadata, WorkerAvailability availability)
{
    /// <summary>Concurrent generations of <paramref name="model"/> the available active silos offer.</summary>
    public int For(string model) => membership.CurrentSnapshot.Members.Values
        .Where(member => member.Status == SiloStatus.Active)
        .Select(member => (member.SiloAddress, Metadata: metadata.GetSiloMetadata(member.SiloAddress).Metadata))
        .Where(silo => SiloCapabilities.Serves(silo.Metadata, model) && availability.IsAvailable(silo.SiloAddress, silo.Metadata))
        .Sum(silo => SiloCapabilities.Slots(silo.Metadata));
}
