using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using PoolAI.Client.Sdk;
using PoolAI.Jobs;
using PoolAI.Libraries;
using PoolAI.Models;
using PoolAI.Silo.Hosting;

namespace PoolAI.Client.Cli;

/// <summary>Shared plumbing of the commands that talk to a pool: validation, connection, errors and exit codes.</summary>
internal static class CliRunner
{
    /// <summary>Exit code: the job or command succeeded.</summary>
    public const int Ok = 0;

    /// <summary>Exit code: the job ended without a result (failed, cancelled, expired).</summary>
    public const int JobNotSucceeded = 1;

    /// <summary>Exit code: bad input or configuration; nothing was run.</summary>
    public const int BadInput = 2;

    /// <summary>Exit code: the pool did not take or finish the request: it is in maintenance, cannot be reached, or the connection to it was lost.</summary>
    public const int PoolUnavailable = 3;

    /// <summary>Exit code: the request conflicts with the job's state: it has finished, so it cannot be cancelled or re-prioritised.</summary>
    public const int Conflict = 4;

    /// <summary>Exit code: interrupted (Ctrl+C).</summary>
    public const int Interrupted = 130;

    /// <summary>
    /// Validates with <paramref name="validate"/> (given the local model registry when this process
    /// would host the pool itself), connects, runs <paramref name="body"/>, and maps errors to messages
    /// and exit codes.
    /// </summary>
    public static async Task<int> RunAsync(Func<PoolConnection, CancellationToken, Task<int>> body, Action<ModelRegistry?>? validate, CancellationToken cancellationToken)
    {
        try
        {
            var configuration = CliConfiguration.Load();
            // Field rules are checked before connecting; model rules need the registry, which is this
            // machine's only when no remote cluster is configured (the pool checks them again either way).
            var remote = configuration[PoolConnection.GatewaysKey] is { Length: > 0 }
                || string.Equals(configuration["PoolAI:Cluster:Clustering"], "adonet", StringComparison.OrdinalIgnoreCase);
            validate?.Invoke(remote ? null : new ModelRegistry(ModelRegistry.DirectoryOrDefault(configuration[ModelRegistry.DirectoryKey])));
            await using var connection = await PoolConnection.OpenAsync(configuration, LogLevel.Warning, cancellationToken, configureLogging: QuietConnectionWarnings);
            try
            {
                var code = await body(connection, cancellationToken);
                if (connection.Kind == PoolConnectionKind.Embedded && !await OthersFinishedAsync(connection, cancellationToken))
                    return Interrupted;
                return code;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                // Said before the connection closes: stopping an embedded silo takes a few seconds.
                Console.Error.WriteLine();
                Console.Error.WriteLine("poolai: interrupted; the job was cancelled");
                return Interrupted;
            }
        }
        catch (JobValidationException ex)
        {
            Console.Error.WriteLine($"poolai: invalid {ex.Field}: {ex.Rule}");
            return BadInput;
        }
        catch (JobFinishedException ex)
        {
            Console.Error.WriteLine($"poolai: {ex.Message}");
            return Conflict;
        }
        catch (Exception ex) when (PoolConfigurationException.From(ex) is { } configuration)
        {
            Console.Error.WriteLine($"poolai: {configuration.Message}");
            return BadInput;
        }
        catch (LibraryRepairException ex)
        {
            Console.Error.WriteLine($"poolai: {ex.Message}");
            return BadInput;
        }
        catch (Volumes.VolumeNotFoundException ex)
        {
            Console.Error.WriteLine($"poolai: {ex.Message}");
            return BadInput;
        }
        catch (KeyNotFoundException ex)
        {
            Console.Error.WriteLine($"poolai: {ex.Message}");
            return BadInput;
        }
        catch (PoolAI.Admin.PoolMaintenanceException ex)
        {
            Console.Error.WriteLine($"poolai: {ex.Message}");
            return PoolUnavailable;
        }
        catch (Exception ex) when (IsConnectionLoss(ex))
        {
            // A job the pool accepted before is not cancelled by this: its id was printed when it was accepted.
            Console.Error.WriteLine($"poolai: the pool cannot be reached or the connection to it was lost ({ex.GetType().Name}: {FirstLine(ex.Message)})");
            return PoolUnavailable;
        }
        catch (ArgumentException ex) when (ex.Message.StartsWith(NoImplementation, StringComparison.Ordinal))
        {
            // Orleans' client resolves a grain interface from the silos it knows; a pool whose only coordinator is
            // stopping (or has not joined yet) has no silo hosting jobs. That is the pool's state, not bad input.
            Console.Error.WriteLine($"poolai: the pool has no silo that takes this request now: it is stopping, or no coordinator has joined yet ({ex.Message})");
            return PoolUnavailable;
        }
        catch (ArgumentException ex)
        {
            Console.Error.WriteLine($"poolai: {ex.Message}");
            return BadInput;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            Console.Error.WriteLine();
            Console.Error.WriteLine("poolai: interrupted before the job was submitted");
            return Interrupted;
        }
    }

    /// <summary>
    /// A <c>poolai</c> that hosts the pool (embedded) and has done its own work stays while jobs that other commands
    /// submitted to its pool (they joined it on the gateway port) run or can start, so that its exit does not cut them
    /// off; jobs that no silo here can run (a <c>cuda</c> job on a CPU pool) are not waited for. Says so once. Returns
    /// false when interrupted (Ctrl+C, SIGTERM) first: the pool then stops, and a job still running is handed back and
    /// waits, stored, for the next pool on this home.
    /// </summary>
    private static async Task<bool> OthersFinishedAsync(PoolConnection connection, CancellationToken cancellationToken)
    {
        var grains = connection.Services.GetRequiredService<IGrainFactory>();
        var queues = connection.Services.GetRequiredService<PoolAI.Execution.JobKindRegistry>().QueueKeys()
            .Select(key => grains.GetGrain<IJobQueueGrain>(key)).ToList();
        var checks = 0;
        try
        {
            while (true)
            {
                var stats = await Task.WhenAll(queues.Select(q => q.GetStatsAsync()));
                var unfinished = stats.Sum(q => q.Running + (q.Capacity > 0 && q.Blocked is null ? q.Pending : 0));
                if (unfinished == 0)
                    return true;
                // Said from the second check on: a job of this command that failed releases its slot just after its
                // requester hears of it, so the first check may still count it.
                if (++checks == 2)
                {
                    Console.Error.WriteLine($"poolai: this process hosts the pool, and {unfinished} job(s) that other commands submitted to it have not finished; it stays until they have (Ctrl+C stops it now, and they wait for the next pool on this home)");
                }

                await Task.Delay(OthersPoll, cancellationToken);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            Console.Error.WriteLine();
            Console.Error.WriteLine("poolai: interrupted; the pool stops, and the other commands' unfinished jobs wait for the next pool on this home");
            return false;
        }
    }

    /// <summary>How often a hosting <c>poolai</c> checks whether other commands' jobs have finished.</summary>
    private static readonly TimeSpan OthersPoll = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// Orleans' connection warnings (a gateway that reset or refused the connection, all gateways marked dead, and on an
    /// embedded pool another <c>poolai</c> that left without closing) come with stack traces on standard error; the
    /// tool says a lost pool itself in one line (<see cref="PoolUnavailable"/>), so it shows only their errors.
    /// </summary>
    public static void QuietConnectionWarnings(ILoggingBuilder logging)
    {
        foreach (var category in ConnectionLogCategories)
            logging.AddFilter(category, LogLevel.Error);
        // A start that fails (the pool cannot be reached) is thrown to the tool, which says it in one line.
        logging.AddFilter("Microsoft.Extensions.Hosting.Internal.Host", LogLevel.Critical);
    }

    /// <summary>Orleans' log categories (prefixes) of client and silo connections and of the client's gateway list.</summary>
    public static readonly IReadOnlyList<string> ConnectionLogCategories = ["Orleans.Runtime.Messaging", "Orleans.Messaging", "Orleans.Networking"];

    /// <summary>How Orleans' <c>GrainInterfaceTypeToGrainTypeResolver</c> begins the message of the <see cref="ArgumentException"/> it throws when no silo the client knows implements a grain interface.</summary>
    private const string NoImplementation = "Could not find an implementation for interface";

    /// <summary>Whether <paramref name="ex"/> says the pool went away or never answered, rather than refusing the request.</summary>
    private static bool IsConnectionLoss(Exception ex) => ex switch
    {
        SiloUnavailableException or Orleans.Runtime.Messaging.ConnectionFailedException or OrleansMessageRejectionException or TimeoutException => true,
        // The client lost the last silo that hosts jobs (it went away while the tool waited): nothing can be placed.
        OrleansException when ex.Message.StartsWith(NoCompatibleSilo, StringComparison.Ordinal) => true,
        OrleansException { InnerException: { } inner } => IsConnectionLoss(inner),
        _ => false,
    };

    /// <summary>How Orleans' placement begins the message of the <see cref="OrleansException"/> it throws when no silo it knows hosts a grain type.</summary>
    private const string NoCompatibleSilo = "No active nodes are compatible with grain";

    private static string FirstLine(string text) => text.Split('\n', 2)[0].Trim();

    /// <summary>
    /// Prints <c>[job ID STATUS via POOL]</c> to standard error as soon as a job is accepted, so it can be watched or
    /// cancelled from elsewhere while it runs.
    /// </summary>
    public static void ReportSubmitted(JobView submitted, string pool) =>
        Console.Error.WriteLine($"[job {submitted.Id} {submitted.Status.ToString().ToLowerInvariant()} via {pool}{(submitted.StatusMessage is { } why ? ": " + why : string.Empty)}]");

    /// <summary>Prints a one-line summary of a finished job to standard error and returns the exit code for it.</summary>
    public static int ReportFinal(JobView view, bool quiet, string pool)
    {
        if (view.Status == JobStatus.Succeeded && view.Result is { } result)
        {
            var text = result.Text;
            var done = text is null ? $"{result.WorkUnits} work units" : $"{text.TokensGenerated} tokens";
            var finish = text is null ? string.Empty : $", finish: {text.FinishReason}";
            if (!quiet && result.CachedFrom is { } source)
                Console.Error.WriteLine($"[{done} from the result cache (job {source} produced them on silo {result.Silo}){finish}, job {view.Id}, via {pool}]");
            else if (!quiet)
                Console.Error.WriteLine($"[{done} in {result.Elapsed.TotalSeconds:F2} s, {result.UnitsPerSecond:F0} {(text is null ? "units" : "tokens")}/s{finish}, silo {result.Silo}, job {view.Id}, via {pool}]");
            return Ok;
        }

        Console.Error.WriteLine($"poolai: job {view.Id} ended {view.Status}: {view.StatusMessage}");
        return JobNotSucceeded;
    }
}
