using Microsoft.Extensions.DependencyInjection;
using PoolAI.Jobs;

namespace PoolAI.Execution;

/// <summary>
/// The job kinds this silo knows, with their descriptors and, where the silo runs them, their executors. Built from
/// the registrations of <see cref="JobKindSiloBuilderExtensions.AddJobKind{TInput, TOutput}"/> when the silo starts.
/// </summary>
public sealed class JobKindRegistry
{
    private readonly Dictionary<JobKind, JobKindDescriptor> _descriptors;
    private readonly Dictionary<JobKind, Lazy<IJobExecutor>> _executors;

    internal JobKindRegistry(IEnumerable<JobKindDescriptor> descriptors, IEnumerable<(JobKind Kind, Func<IJobExecutor> Create)> executors)
    {
        _descriptors = descriptors.ToDictionary(d => d.Kind);
        _executors = executors.ToDictionary(e => e.Kind, e => new Lazy<IJobExecutor>(e.Create, LazyThreadSafetyMode.ExecutionAndPublication));
    }

    /// <summary>Every kind the pool runs, in registration order.</summary>
    public IReadOnlyCollection<JobKindDescriptor> Descriptors => _descriptors.Values;

    /// <summary>The kinds this silo executes.</summary>
    public IReadOnlyCollection<JobKind> Executed => _executors.Keys;

    /// <summary>The descriptor of <paramref name="kind"/>.</summary>
    /// <exception cref="JobValidationException">The pool does not run that kind (field <c>kind</c>); the message lists those it runs.</exception>
    public JobKindDescriptor Get(JobKind kind) => _descriptors.TryGetValue(kind, out var descriptor)
        ? descriptor
        : throw new JobValidationException("kind", $"'{kind}' is not a kind this pool runs; it runs {string.Join(", ", _descriptors.Keys.Select(k => k.Name))}");

    /// <summary>The descriptor of <paramref name="kind"/>, if the pool runs it.</summary>
    public bool TryGet(JobKind kind, out JobKindDescriptor descriptor) => _descriptors.TryGetValue(kind, out descriptor!);

    /// <summary>This silo's executor of <paramref name="kind"/> (created on first use); null when this silo does not run it.</summary>
    public IJobExecutor? Executor(JobKind kind) => _executors.TryGetValue(kind, out var executor) ? executor.Value : null;

    /// <summary>
    /// The keys of every queue that may hold jobs: one per kind and target the kinds know
    /// (<see cref="JobKindDescriptor.KnownTargets"/>), and the per-target keys queues had before they were per kind.
    /// </summary>
    public IEnumerable<string> QueueKeys() => _descriptors.Values
        .SelectMany(kind => kind.KnownTargets.Select(target => JobQueueKeys.For(kind.Kind, target)))
        .Concat(_descriptors.Values.Where(k => k.Kind == JobKind.TextGeneration || k.Kind == JobKind.System).SelectMany(k => k.KnownTargets))
        .Distinct(StringComparer.Ordinal);

    /// <summary>
    /// True when a silo with <paramref name="silo"/>'s metadata runs <paramref name="kind"/> on <paramref name="target"/>:
    /// it advertises the kind (<see cref="PoolKeys.KindsMetadata"/>) and the kind's descriptor says it serves the target.
    /// </summary>
    public bool Runs(IReadOnlyDictionary<string, string> silo, JobKind kind, string target) =>
        SiloKinds.Advertises(silo, kind) && _descriptors.TryGetValue(kind, out var descriptor) && descriptor.Serves(silo, target);
}

/// <summary>The kinds a silo advertises in its metadata (<see cref="PoolKeys.KindsMetadata"/>).</summary>
public static class SiloKinds
{
    /// <summary>True when <paramref name="silo"/>'s metadata lists <paramref name="kind"/>.</summary>
    public static bool Advertises(IReadOnlyDictionary<string, string> silo, JobKind kind) =>
        silo.TryGetValue(PoolKeys.KindsMetadata, out var kinds) && kinds.Split(',', StringSplitOptions.TrimEntries).Contains(kind.Name, StringComparer.Ordinal);
}

/// <summary>The kinds registered while a silo is configured; the silo builds its <see cref="JobKindRegistry"/> from it.</summary>
internal sealed class JobKindCatalog
{
    private readonly List<(JobKind Kind, Func<IServiceProvider, JobKindDescriptor> Descriptor, Func<IServiceProvider, IJobExecutor>? Executor)> _kinds = [];

    /// <summary>The catalog of <paramref name="services"/>, added on first use.</summary>
    public static JobKindCatalog Of(IServiceCollection services)
    {
        if (services.FirstOrDefault(d => d.ServiceType == typeof(JobKindCatalog))?.ImplementationInstance is JobKindCatalog catalog)
            return catalog;
        catalog = new JobKindCatalog();
        services.AddSingleton(catalog);
        services.AddSingleton(sp => catalog.Build(sp));
        return catalog;
    }

    /// <summary>Kinds with an executor on this silo, in registration order.</summary>
    public IReadOnlyList<JobKind> Executed => _kinds.Where(k => k.Executor is not null).Select(k => k.Kind).ToList();

    /// <summary>Raised when a kind is added, so silo metadata can list it.</summary>
    public event Action? Changed;

    public void Add(JobKind kind, Func<IServiceProvider, JobKindDescriptor> descriptor, Func<IServiceProvider, IJobExecutor>? executor)
    {
        _kinds.RemoveAll(k => k.Kind == kind);
        _kinds.Add((kind, descriptor, executor));
        Changed?.Invoke();
    }

    private JobKindRegistry Build(IServiceProvider services) => new(
        _kinds.Select(k => k.Descriptor(services) is var d && d.Kind == k.Kind ? d : throw new InvalidOperationException($"the descriptor registered for kind {k.Kind} describes {d.Kind}")),
        _kinds.Where(k => k.Executor is not null).Select(k => (k.Kind, (Func<IJobExecutor>)(() => k.Executor!(services)))));
}
