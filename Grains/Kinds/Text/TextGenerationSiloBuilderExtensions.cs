using Microsoft.Extensions.DependencyInjection;
using PoolAI.Execution;
using PoolAI.Inference;
using PoolAI.Jobs;
using PoolAI.Models;

namespace PoolAI.Kinds.Text;

/// <summary>Registers text and code generation on a silo.</summary>
public static class TextGenerationSiloBuilderExtensions
{
    /// <summary>
    /// Adds the <see cref="JobKind.TextGeneration"/> and <see cref="JobKind.CodeGeneration"/> kinds (descriptor
    /// <see cref="TextGenerationKind"/>) and, on this silo, their executor <see cref="TextGenerationExecutor"/>, which
    /// needs the silo's <see cref="ModelHost"/>. A silo that serves no model advertises neither kind.
    /// </summary>
    public static ISiloBuilder AddTextGeneration(this ISiloBuilder silo)
    {
        foreach (var kind in new[] { JobKind.TextGeneration, JobKind.CodeGeneration })
        {
            silo.AddJobKind(
                kind,
                services => new TextGenerationKind(kind, services.GetRequiredService<ModelRegistry>()),
                services => new TextGenerationExecutor(services.GetRequiredService<ModelHost>()));
        }

        return silo;
    }
}
