using Orleans.Dashboard;
using PoolAI.Libraries;
using PoolAI.Silo.Hosting;

try
{
    var builder = WebApplication.CreateBuilder(args);
    var role = builder.Configuration.AddPoolRoleConfiguration(args);
    if (role.ServesModels())
        TorchLibraries.EnsureLoaded();
    // Room for a miner to drain (PoolAI:Miner:DrainTimeout) and for Orleans to leave the cluster cleanly.
    var drainTimeout = builder.Configuration.GetValue($"{PoolMinerOptions.Section}:DrainTimeout", TimeSpan.FromSeconds(10));
    builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = drainTimeout + TimeSpan.FromSeconds(30));
    builder.UseOrleans(silo => silo
        .UsePoolClustering(builder.Configuration)
        .AddPoolAI(builder.Configuration)
        .AddDashboard());

    var app = builder.Build();
    app.MapOrleansDashboard("/dashboard");
    app.MapGet("/", () => Results.Redirect("/dashboard"));
    await app.RunAsync();
    return 0;
}
catch (Exception ex) when (ex is PoolConfigurationException or Microsoft.Extensions.Options.OptionsValidationException or LibraryRepairException)
{
    Console.Error.WriteLine($"poolai silo: {ex.Message}");
    return 2;
}
