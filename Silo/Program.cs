using Orleans.Dashboard;
using PoolAI.Libraries;
using PoolAI.Silo.Hosting;

try
{
    var builder = WebApplication.CreateBuilder(args);
    var role = builder.Configuration.AddPoolRoleConfiguration(args);
    if (role.ServesModels())
        TorchLibraries.EnsureLoaded();
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
