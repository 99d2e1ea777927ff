using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Configuration.EnvironmentVariables;
using Microsoft.Extensions.Configuration.Json;

namespace PoolAI.Silo.Hosting;

/// <summary>Layers PoolAI's configuration: the role file under <c>config/</c>, then environment and command line.</summary>
public static class PoolConfiguration
{
    /// <summary>
    /// Maps the switches <c>--role</c>, <c>--pool</c>, <c>--key</c> and <c>--storage</c> (an open miner's pool, key and the storage it offers), reads the role (<c>--role</c>, <c>PoolAI:Role</c> or <c>POOLAI__Role</c>; default
    /// <c>all-in-one</c>) and adds <c>config/{role}.json</c> from beside the application underneath
    /// environment variables and the command line, which still override it. Returns the role.
    /// </summary>
    /// <exception cref="PoolConfigurationException">Unknown role.</exception>
    public static PoolRole AddPoolRoleConfiguration(this IConfigurationManager configuration, string[] args)
    {
        configuration.AddCommandLine(args, new Dictionary<string, string>
        {
            ["--role"] = PoolRoles.Key,
            ["--pool"] = "PoolAI:Miner:Pool",
            ["--key"] = "PoolAI:Miner:Key",
            ["--storage"] = "PoolAI:Miner:StorageBytes",
        });
        var role = PoolRoles.Parse(configuration[PoolRoles.Key]);
        var file = Path.Combine(AppContext.BaseDirectory, "config", $"{role.Name()}.json");
        if (File.Exists(file))
        {
            var source = new JsonConfigurationSource { Path = file, Optional = true, ReloadOnChange = false };
            source.ResolveFileProvider();
            var position = configuration.Sources.ToList().FindIndex(s => s is EnvironmentVariablesConfigurationSource);
            configuration.Sources.Insert(position < 0 ? configuration.Sources.Count : position, source);
        }

        return role;
    }
}
