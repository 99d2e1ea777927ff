using Orleans.Dashboard;
using PoolAI.Libraries;
using PoolAI.Silo.Hosting;
using PoolAI.Silo.Miners;

try
{
    var builder = WebApplication.CreateBuilder(args);
    var role = builder.Configuration.AddPoolRoleConfiguration(args);
    // An open miner (--pool URL --key pai_…) runs a cluster of its own and reaches the pool only through its gateway.
    var openMiner = PoolAI.Silo.Miners.OpenMinerSetup.Configure(builder.Configuration, role);
    if (role.ServesModels())
        TorchLibraries.EnsureLoaded();
    // Room for a miner to drain (PoolAI:Miner:DrainTimeout) and for Orleans to leave the cluster cleanly.
    var drainTimeout = builder.Configuration.GetValue($"{PoolMinerOptions.Section}:DrainTimeout", TimeSpan.FromSeconds(10));
    builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = drainTimeout + TimeSpan.FromSeconds(30));
    builder.UseOrleans(silo => silo
        .UsePoolClustering(builder.Configuration)
        .AddPoolAI(builder.Configuration)
        .AddOpenMinerClient(openMiner)
        .AddDashboard());

    var app = builder.Build();
    // Bad options stop the process here, in one line (see the catch below), before the host would log a failed start.
    app.Services.GetService<Microsoft.Extensions.Options.IStartupValidator>()?.Validate();
    app.MapOrleansDashboard("/dashboard");
    app.MapGet("/", () => Results.Redirect("/dashboard"));
    await app.RunAsync();
    return 0;
}
catch (Exception ex) when (PoolConfigurationException.From(ex) is not null || ex is LibraryRepairException)
{
    Console.Error.WriteLine($"poolai silo: {PoolConfigurationException.From(ex)?.Message ?? ex.Message}");
    return 2;
}
