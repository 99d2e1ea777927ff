using Microsoft.Extensions.Configuration;

namespace PoolAI.Client.Cli;

/// <summary>Configuration of the <c>poolai</c> tool: environment variables (<c>POOLAI__Section__Key</c>) and <c>poolai.json</c> in the working directory.</summary>
internal static class CliConfiguration
{
    public static IConfiguration Load() => new ConfigurationBuilder()
        .AddJsonFile(Path.Combine(Directory.GetCurrentDirectory(), "poolai.json"), optional: true)
        .AddEnvironmentVariables("POOLAI__")
        .Build()
        .Rebase();

    /// <summary>Environment variables <c>POOLAI__Cluster__GatewayPort</c> land at <c>Cluster:GatewayPort</c>; the pool reads <c>PoolAI:Cluster:GatewayPort</c>.</summary>
    private static IConfiguration Rebase(this IConfigurationRoot root)
    {
        var values = root.AsEnumerable().Where(kv => kv.Value is not null)
            .Select(kv => new KeyValuePair<string, string?>(kv.Key.StartsWith("PoolAI:", StringComparison.OrdinalIgnoreCase) ? kv.Key : "PoolAI:" + kv.Key, kv.Value));
        return new ConfigurationBuilder().AddInMemoryCollection(values).Build();
    }
}
