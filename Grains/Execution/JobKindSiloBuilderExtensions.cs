using Microsoft.Extensions.DependencyInjection;
using PoolAI.Jobs;

namespace PoolAI.Execution;

/// <summary>Registers job kinds on a silo.</summary>
public static class JobKindSiloBuilderExtensions
{
    /// <summary>
    /// Registers <paramref name="kind"/>: its descriptor on this silo (so it accepts, queues and settles such jobs) and,
    /// with an <paramref name="executor"/>, the means to run them here. A silo whose role serves work advertises the
    /// kinds it executes in its metadata (<see cref="PoolKeys.KindsMetadata"/>), so placement sends such jobs only to
    /// silos that run them. Registering a kind again replaces it.
    /// </summary>
    /// <param name="silo">The silo.</param>
    /// <param name="kind">The kind; the descriptor must describe the same one.</param>
    /// <param name="descriptor">Makes the kind's descriptor from the silo's services.</param>
    /// <param name="executor">Makes this silo's executor of the kind (once, on first use); null when the silo only accepts such jobs.</param>
    public static ISiloBuilder AddJobKind<TInput, TOutput>(
        this ISiloBuilder silo,
        JobKind kind,
        Func<IServiceProvider, JobKindDescriptor<TInput, TOutput>> descriptor,
        Func<IServiceProvider, IJobExecutor<TInput, TOutput>>? executor = null)
        where TInput : class, IJobInput
        where TOutput : class, IJobOutput
    {
        JobKindCatalog.Of(silo.Services).Add(
            kind,
            descriptor,
            executor is null ? null : services => new TypedExecutor<TInput, TOutput>(executor(services)));
        return silo;
    }

    /// <summary>
    /// Keeps <paramref name="metadata"/>'s <see cref="PoolKeys.KindsMetadata"/> equal to the kinds this silo executes,
    /// now and as kinds are registered later (the dictionary is read when the silo starts). For silos that serve work.
    /// </summary>
    public static ISiloBuilder AdvertiseJobKinds(this ISiloBuilder silo, IDictionary<string, string> metadata)
    {
        var catalog = JobKindCatalog.Of(silo.Services);
        void Advertise() => metadata[PoolKeys.KindsMetadata] = string.Join(',', catalog.Executed.Select(k => k.Name));
        Advertise();
        catalog.Changed += Advertise;
        return silo;
    }
}
