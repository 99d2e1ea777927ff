using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans.Dashboard;
using PoolAI.Libraries;
using PoolAI.Silo.Miners;
using PoolAI.Volumes;

namespace PoolAI.Silo.Hosting;

/// <summary>
/// Runs one silo of the pool until it is stopped: the <c>Silo</c> executable and <c>poolai silo</c> both come here.
/// The role comes from <c>--role</c> (see <see cref="PoolConfiguration"/>); an open miner (<c>--pool URL --key pai_…</c>)
/// runs a cluster of its own and reaches the pool only through its gateway (<see cref="OpenMinerSetup"/>).
/// </summary>
public static class SiloHost
{
    /// <summary>Runs the silo; returns the process exit code: 0 after a clean stop, 2 for bad configuration or a pool that refused this miner.</summary>
    /// <param name="args">Command-line arguments: <c>--role</c>, <c>--pool</c>, <c>--key</c>, and any configuration key (<c>--PoolAI:Miner:Slots 4</c>).</param>
    public static async Task<int> RunAsync(string[] args)
    {
        try
        {
            var builder = WebApplication.CreateBuilder(args);
            var role = builder.Configuration.AddPoolRoleConfiguration(args);
            var openMiner = OpenMinerSetup.Configure(builder.Configuration, role);
            // One pool per home database: a second all-in-one silo on the same home is refused, naming the first's port.
            using var homeLock = PoolRoles.Parse(builder.Configuration[PoolRoles.Key]).HostsState() && PoolHomeLock.UsesHomeDatabase(builder.Configuration)
                ? PoolHomeLock.TakeOrRefuse(PoolHome.Directory, builder.Configuration.GetValue($"{PoolClusterOptions.Section}:GatewayPort", new PoolClusterOptions().GatewayPort))
                : null;
            if (role.ServesModels())
                TorchLibraries.EnsureLoaded();
            // Room for a miner to drain (PoolAI:Miner:DrainTimeout) and for Orleans to leave the cluster cleanly.
            var drainTimeout = builder.Configuration.GetValue($"{PoolMinerOptions.Section}:DrainTimeout", TimeSpan.FromSeconds(10));
            builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = drainTimeout + TimeSpan.FromSeconds(30));
            builder.UseOrleans(silo =>
            {
                silo.UsePoolClustering(builder.Configuration)
                    .AddPoolAI(builder.Configuration)
                    .AddOpenMinerClient(openMiner);
                if (openMiner is null)
                    silo.AddDashboard(); // an open miner's local cluster is nobody's to watch
            });

            var app = builder.Build();
            // Bad options stop the process here, in one line (see the catch below), before the host would log a failed start.
            app.Services.GetService<Microsoft.Extensions.Options.IStartupValidator>()?.Validate();
            if (openMiner is null)
            {
                app.MapOrleansDashboard("/dashboard");
                app.MapGet("/", () => Results.Redirect("/dashboard"));
                app.MapShardTransport();
            }
            await app.RunAsync();
            return Environment.ExitCode;
        }
        catch (Exception ex) when (PoolConfigurationException.From(ex) is not null || ex is LibraryRepairException)
        {
            Console.Error.WriteLine($"poolai silo: {PoolConfigurationException.From(ex)?.Message ?? ex.Message}");
            return 2;
        }
    }
}
