using Microsoft.Extensions.DependencyInjection;
using PoolAI.Execution;
using PoolAI.Inference;
using PoolAI.Jobs;
using PoolAI.Placement;

namespace PoolAI.Kinds.SystemTasks;

/// <summary>Registers the built-in system tasks on a silo.</summary>
public static class SystemTaskSiloBuilderExtensions
{
    /// <summary>Adds the <see cref="JobKind.System"/> kind (descriptor <see cref="SystemTaskKind"/>) and, on this silo, its executor <see cref="SystemTaskExecutor"/>.</summary>
    public static ISiloBuilder AddSystemTasks(this ISiloBuilder silo) => silo.AddJobKind(
        JobKind.System,
        _ => new SystemTaskKind(),
        services => new SystemTaskExecutor(
            services.GetRequiredService<ModelHost>(),
            services.GetService<Models.ServedModels>(),
            services.GetRequiredService<LocalSiloMetadata>(),
            new MigrateTask(services.GetRequiredService<IGrainFactory>(), services.GetRequiredService<TimeProvider>()),
            new MirrorTask(services.GetRequiredService<IGrainFactory>(), services.GetRequiredService<IClusterMembershipService>(), services.GetRequiredService<SiloMetadataLookup>(), services.GetRequiredService<WorkerAvailability>())));
}
