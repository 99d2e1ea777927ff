using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace PoolAI.Artifacts;

/// <summary>Registers the artifact store's settings on a silo.</summary>
public static class ArtifactSiloBuilderExtensions
{
    /// <summary>
    /// Artifacts: where their content is kept (<c>PoolAI:Artifacts</c>, validated at start: <c>Volume</c>, default
    /// <c>jobs</c>, and <c>VolumeLayout</c>, default <c>auto</c>) and the access to that volume the artifact grains use.
    /// </summary>
    public static ISiloBuilder AddPoolArtifacts(this ISiloBuilder silo, IConfiguration configuration)
    {
        silo.Services.AddOptions<ArtifactOptions>().Bind(configuration.GetSection(ArtifactOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        silo.Services.TryAddSingleton<ArtifactVolume>();
        return silo;
    }
}
