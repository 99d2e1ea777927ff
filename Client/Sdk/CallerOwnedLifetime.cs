using Microsoft.Extensions.Hosting;

namespace PoolAI.Client.Sdk;

/// <summary>
/// Host lifetime for a pool hosted inside another program (the CLI, an application using the SDK):
/// unlike the default console lifetime it does not take Ctrl+C or SIGTERM for itself, so the program
/// that owns the connection decides what an interrupt means (the CLI cancels the job and exits 130).
/// </summary>
internal sealed class CallerOwnedLifetime : IHostLifetime
{
    public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
