using PoolAI.Execution;
using PoolAI.Placement;

namespace PoolAI.Jobs;

/// <summary>
/// Where the jobs of a queue can run: the serving units a <see cref="JobQueueGrain"/> places work on. The pool's own
/// source is <see cref="ServingCapacity"/> (silo metadata); the scale benchmark swaps in simulated miners.
/// </summary>
public interface IServingSilos
{
    /// <summary>The units that may get new work of the queue <paramref name="queue"/> (a <see cref="JobQueueKeys"/> key) now, with their declared slots.</summary>
    IReadOnlyList<ServingSilo> Silos(string queue);
}

/// <summary>
/// How many jobs of a queue's kind and target the cluster can run at once: the sum of the slots that active silos
/// running that kind on that target (<see cref="JobKindRegistry.Runs"/>) declare in their silo metadata, leaving out
/// silos whose worker takes no new work or whose lease expired (<see cref="WorkerAvailability"/>).
/// </summary>
public sealed class ServingCapacity(IClusterMembershipService membership, SiloMetadataLookup metadata, WorkerAvailability availability, JobKindRegistry kinds, TimeProvider time) : IServingSilos
{
    // The answer per queue, reused while nothing it was made from changed: a queue asks on every enqueue and dispatch.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, Answer> _answers = new(StringComparer.Ordinal);

    /// <summary>Concurrent jobs of the queue <paramref name="queue"/> (a <see cref="JobQueueKeys"/> key; a model id alone is its text queue) the available active silos offer.</summary>
    public int For(string queue) => Silos(queue).Sum(silo => silo.Slots);

    /// <summary>
    /// The available active silos that run the queue's kind on its target, with their declared slots, worker, device
    /// and memory. Made again only when the membership, a silo's metadata or a worker's availability has changed since
    /// the last answer for the queue, or a suspicion has run out.
    /// </summary>
    public IReadOnlyList<ServingSilo> Silos(string queue)
    {
        var snapshot = membership.CurrentSnapshot;
        var availabilityVersion = availability.Version;
        if (_answers.TryGetValue(queue, out var answer) && answer.Membership == snapshot.Version && answer.Availability == availabilityVersion
            && time.GetUtcNow() < answer.ValidUntil && SameMetadata(answer))
        {
            return answer.Silos;
        }

        var (kind, target) = JobQueueKeys.Parse(queue);
        var active = snapshot.Members.Values.Where(member => member.Status == SiloStatus.Active)
            .Select(member => (member.SiloAddress, Metadata: metadata.Of(member.SiloAddress)))
            .ToList();
        var silos = active
            .Where(silo => kinds.Runs(silo.Metadata, kind, target) && availability.IsAvailable(silo.SiloAddress, silo.Metadata))
            .Select(silo => new ServingSilo(
                silo.SiloAddress.ToString(),
                SiloCapabilities.Slots(silo.Metadata),
                silo.Metadata.GetValueOrDefault(PoolKeys.WorkerMetadata),
                silo.Metadata.GetValueOrDefault(PoolKeys.DeviceMetadata) ?? "cpu",
                SiloCapabilities.Megabytes(silo.Metadata, PoolKeys.MemoryMetadata),
                SiloCapabilities.Megabytes(silo.Metadata, PoolKeys.GpuMemoryMetadata)))
            .ToList();
        // Open miners (connected through the miner channel) count like silos, for the kinds and targets allowed on them.
        if (availability.OpenMiners is { Count: > 0 } open && kinds.TryGet(kind, out var descriptor) && descriptor.RunsOnOpenMiners(target))
        {
            silos.AddRange(open
                .Where(miner => kinds.Runs(miner.Metadata, kind, target) && availability.IsAvailable(miner.Silo, miner.Metadata))
                .Select(miner => new ServingSilo(
                    miner.Silo,
                    SiloCapabilities.Slots(miner.Metadata),
                    miner.Metadata[PoolKeys.WorkerMetadata],
                    miner.Metadata[PoolKeys.DeviceMetadata],
                    SiloCapabilities.Megabytes(miner.Metadata, PoolKeys.MemoryMetadata),
                    SiloCapabilities.Megabytes(miner.Metadata, PoolKeys.GpuMemoryMetadata),
                    Open: true)));
        }

        // Stamped with the version read before it was made: a change made meanwhile makes the next call make it again.
        _answers[queue] = new Answer(snapshot.Version, availabilityVersion, availability.SuspectedUntil,
            [.. active.Select(silo => silo.SiloAddress)], [.. active.Select(silo => silo.Metadata)], silos);
        return silos;
    }

    /// <summary>
    /// Whether every active silo the answer was made from still has the metadata it had then. The same membership
    /// version means the same active silos, so their addresses are kept with the answer: a queue asks on every enqueue
    /// and dispatch, and walking the membership's immutable dictionary each time cost more than the rest of the check.
    /// </summary>
    private bool SameMetadata(Answer answer)
    {
        for (var i = 0; i < answer.Active.Length; i++)
        {
            if (!ReferenceEquals(metadata.Of(answer.Active[i]), answer.Metadata[i]))
                return false;
        }

        return true;
    }

    private sealed record Answer(
        MembershipVersion Membership, long Availability, DateTimeOffset ValidUntil, SiloAddress[] Active, IReadOnlyDictionary<string, string>[] Metadata, IReadOnlyList<ServingSilo> Silos);
}

/// <summary>A unit of serving capacity: a silo that serves a model (in the scale benchmark, one simulated miner).</summary>
/// <param name="Silo">The silo that runs the work, as <see cref="SiloAddress.ToString"/> writes it.</param>
/// <param name="Slots">Jobs it declares it runs at once.</param>
/// <param name="Worker">Its worker id, when advertised.</param>
/// <param name="Device">Its device class (<c>cpu</c>, <c>cuda</c>).</param>
/// <param name="MemoryMb">Its host memory, MiB.</param>
/// <param name="GpuMemoryMb">Its GPU memory, MiB (0 without a GPU).</param>
/// <param name="Open">True for an open miner (a machine the pool does not trust, reached through the miner channel).</param>
public sealed record ServingSilo(string Silo, int Slots, string? Worker, string Device, long MemoryMb = 0, long GpuMemoryMb = 0, bool Open = false)
{
    /// <summary>The key the queue counts slots under: the silo, and its worker when it has one.</summary>
    public string Key => UnitKey(Silo, Worker);

    /// <summary>The slot key of a silo and worker (see <see cref="Key"/>).</summary>
    public static string UnitKey(string silo, string? worker) => worker is null ? silo : $"{silo}/{worker}";

    /// <summary>True when a job with <paramref name="job"/>'s requirements, trust and excluded workers may run here.</summary>
    public bool Accepts(QueuedJob job) =>
        !(Open && job.TrustedOnly)
        && (job.Requirements is not { } requirements || requirements.AreMetBy(Device, MemoryMb, GpuMemoryMb))
        && (job.ExcludedWorkers is not { Count: > 0 } excluded || Worker is null || !excluded.Contains(Worker, StringComparer.Ordinal));
}
