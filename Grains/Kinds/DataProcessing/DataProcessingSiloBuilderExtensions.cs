using Microsoft.Extensions.DependencyInjection;
using PoolAI.Execution;
using PoolAI.Jobs;

namespace PoolAI.Kinds.DataProcessing;

/// <summary>Registers data processing on a silo.</summary>
public static class DataProcessingSiloBuilderExtensions
{
    /// <summary>
    /// Adds the <see cref="JobKind.DataProcessing"/> kind (descriptor <see cref="DataProcessingKind"/>) and, on this silo,
    /// its executor <see cref="DataProcessingExecutor"/>, which reaches the pool's volumes through the silo's grain factory.
    /// </summary>
    public static ISiloBuilder AddDataProcessing(this ISiloBuilder silo) => silo.AddJobKind(
        JobKind.DataProcessing,
        _ => new DataProcessingKind(),
        services => new DataProcessingExecutor(services.GetRequiredService<IGrainFactory>()));
}
