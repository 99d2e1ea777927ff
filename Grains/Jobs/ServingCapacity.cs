using Orleans.Runtime.MembershipService.SiloMetadata;
using PoolAI.Inference;

namespace PoolAI.Jobs;

/// <summary>
/// How many generations of a model the cluster can run at once: the sum of the slots that active
/// silos advertising the model declare in their silo metadata.
/// </summary>
public sealed class ServingCapacity(IClusterMembershipService membership, ISiloMetadataCache metadata)
{
    /// <summary>Concurrent generations of <paramref name="model"/> the active silos offer.</summary>
    public int For(string model) => membership.CurrentSnapshot.Members.Values
        .Where(member => member.Status == SiloStatus.Active)
        .Select(member => metadata.GetSiloMetadata(member.SiloAddress).Metadata)
        .Where(silo => SiloCapabilities.Serves(silo, model))
        .Sum(SiloCapabilities.Slots);
}
