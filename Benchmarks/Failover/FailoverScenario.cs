using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Configuration;
using PoolAI.Client.Sdk;
using PoolAI.Jobs;

namespace PoolAI.Benchmarks.Failover;

/// <summary>What the failover scenario found; the JSON that <c>scripts/failover-demo.sh</c> prints.</summary>
/// <param name="Submitted">Jobs accepted.</param>
/// <param name="Succeeded">Jobs that ended <c>Succeeded</c>.</param>
/// <param name="Failed">Jobs that ended in any other final state.</param>
/// <param name="Duplicates">Completions beyond one per job: extra "succeeded" lines in the coordinator's completion log, plus jobs with more than one successful attempt.</param>
/// <param name="Lost">Accepted jobs not final at the end, or no longer found.</param>
/// <param name="RequeueSeconds">Seconds from the miner's SIGKILL until every job it was running was running again on another silo (or done there).</param>
/// <param name="JobsInFlightOnKilledMiner">Jobs the killed miner was running at the kill, counted as those that then had to run again.</param>
/// <param name="JobsOnThirdMiner">Jobs that finished on the miner started mid-run.</param>
/// <param name="RetriedJobs">Jobs with more than one attempt.</param>
/// <param name="WallSeconds">Seconds from the first submission until every job was final.</param>
public sealed record FailoverSummary(
    [property: JsonPropertyName("submitted")] int Submitted,
    [property: JsonPropertyName("succeeded")] int Succeeded,
    [property: JsonPropertyName("failed")] int Failed,
    [property: JsonPropertyName("duplicates")] int Duplicates,
    [property: JsonPropertyName("lost")] int Lost,
    [property: JsonPropertyName("requeue_seconds")] double RequeueSeconds,
    [property: JsonPropertyName("in_flight_on_killed_miner")] int JobsInFlightOnKilledMiner,
    [property: JsonPropertyName("jobs_on_third_miner")] int JobsOnThirdMiner,
    [property: JsonPropertyName("retried_jobs")] int RetriedJobs,
    [property: JsonPropertyName("wall_seconds")] double WallSeconds);

/// <summary>
/// Scenario 1 of the multi-machine pool, with real processes: a coordinator and two miners (the real Silo executable)
/// clustered through PostgreSQL; a client submits <see cref="Jobs"/> text-generation jobs; once a share has finished a
/// third miner starts and must get work; then one of the first miners is killed with SIGKILL while it runs jobs. Every
/// job must end <c>Succeeded</c> exactly once. The database must exist and be empty (the coordinator migrates it).
/// </summary>
public sealed partial class FailoverScenario(string database, Action<string> log)
{
    /// <summary>Jobs submitted.</summary>
    public int Jobs { get; init; } = 300;

    /// <summary>
    /// Tokens each job generates: enough that the jobs outlast the third miner's start (a few seconds) after a fifth
    /// of them have finished; a miner decodes thousands of tokens a second.
    /// </summary>
    public int MaxTokens { get; init; } = 600;

    /// <summary>Slots each miner declares.</summary>
    public int SlotsPerMiner { get; init; } = 2;

    /// <summary>Longest time the whole run may take.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromMinutes(8);

    private static readonly TimeSpan StartTimeout = TimeSpan.FromMinutes(2);

    /// <summary>Runs the scenario and stops every process it started.</summary>
    /// <exception cref="TimeoutException">A process did not start, or the jobs did not finish, in time.</exception>
    public async Task<FailoverSummary> RunAsync()
    {
        var clusterId = $"failover-{Guid.NewGuid():N}";
        var environment = new Dictionary<string, string>
        {
            ["PoolAI__Database__ConnectionString"] = database,
            ["PoolAI__Cluster__AdvertisedAddress"] = "127.0.0.1",
            ["PoolAI__Cluster__ClusterId"] = clusterId,
        };
        var minerEnvironment = new Dictionary<string, string>(environment)
        {
            ["PoolAI__Cluster__GatewayPort"] = "0",
            ["PoolAI__Miner__Slots"] = SlotsPerMiner.ToString(CultureInfo.InvariantCulture),
        };
        var processes = new List<PoolProcess>();
        try
        {
            var coordinator = Started(processes, PoolProcess.StartSilo("coordinator", environment));
            await coordinator.WaitForLogAsync("Application started", StartTimeout);
            log($"coordinator up (silo port {coordinator.SiloPort})");
            var minerA = Started(processes, PoolProcess.StartSilo("miner", minerEnvironment));
            var minerB = Started(processes, PoolProcess.StartSilo("miner", minerEnvironment));
            await Task.WhenAll(minerA.WaitForLogAsync("registered: serves", StartTimeout), minerB.WaitForLogAsync("registered: serves", StartTimeout));
            log($"miners up (silo ports {minerA.SiloPort}, {minerB.SiloPort})");

            await using var connection = await PoolConnection.OpenAsync(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["PoolAI:Cluster:Clustering"] = "adonet",
                ["PoolAI:Cluster:ClusterId"] = clusterId,
                ["PoolAI:Database:ConnectionString"] = database,
            }).Build());
            var pool = connection.Client;

            var clock = Stopwatch.StartNew();
            var ids = new List<Guid>();
            foreach (var batch in Enumerable.Range(0, Jobs).Chunk(50))
            {
                var accepted = await Task.WhenAll(batch.Select(i => pool.SubmitAsync(JobSpec.TextGeneration("shakespeare-char", new GenerationSettings("ROMEO:", MaxTokens, 0.8f, 0, 1f, 1000 + i, null)))));
                ids.AddRange(accepted.Select(j => j.Id));
            }

            log($"{ids.Count} jobs accepted in {clock.Elapsed.TotalSeconds:F1} s");
            var deadline = DateTime.UtcNow + Timeout;

            // A third miner joins mid-run and must get work with no other step.
            await JobPolling.WaitUntilAsync(pool, ids, views => views.Count(v => v.Status == JobStatus.Succeeded) >= Jobs / 5, deadline, "a fifth of the jobs to finish", log);
            var minerC = Started(processes, PoolProcess.StartSilo("miner", minerEnvironment));
            await minerC.WaitForLogAsync("registered: serves", StartTimeout);
            log($"third miner up (silo port {minerC.SiloPort})");

            // Kill a miner while it runs jobs.
            // Jobs early in their generation, so that they are still running when the kill lands a moment later.
            var running = await JobPolling.WaitUntilAsync(pool, ids, views => RunningOn(views, minerA).Count > 0 && views.Any(v => v.Attempts.Any(a => OnSilo(a.Silo, minerC))), deadline, "the third miner to get a job while the first one starts jobs", log);
            var killedAt = Stopwatch.StartNew();
            minerA.KillHard();
            // What was in flight is read after the kill: a job still assigned to or running on a dead miner cannot have
            // finished there (a snapshot before the kill may list jobs that finished in between).
            var afterKill = await JobPolling.WaitUntilAsync(pool, ids, _ => true, deadline, "the jobs after the kill", log);
            // Some may have been moved already (a broken connection is reported within a second): their attempt on the
            // killed miner has ended without success.
            var inFlight = afterKill.Where(v => v.Attempts.Any(a => OnSilo(a.Silo, minerA) && (a.EndedAt is null || a.Outcome != "succeeded")))
                .Select(v => v.Id).ToHashSet();
            log($"killed miner on silo port {minerA.SiloPort} (SIGKILL) while it ran {inFlight.Count} jobs (it was starting {RunningOn(running, minerA).Count} just before)");

            // Until each of its jobs runs elsewhere (or has finished elsewhere).
            try
            {
                await JobPolling.WaitUntilAsync(pool, inFlight.ToList(), views => views.All(v => MovedOff(v, minerA)), deadline, "the killed miner's jobs to run elsewhere", log, TimeSpan.FromMilliseconds(100));
            }
            catch (TimeoutException)
            {
                // What the coordinator said about the jobs that did not move: the first thing to read when this fails.
                foreach (var line in coordinator.Log.Split('\n').Where(l => inFlight.Any(id => l.Contains(id.ToString(), StringComparison.Ordinal))).TakeLast(40))
                    log($"coordinator: {line}");
                throw;
            }
            var requeueSeconds = killedAt.Elapsed.TotalSeconds;
            log($"its jobs were running elsewhere {requeueSeconds:F2} s after the kill");

            var final = await JobPolling.WaitUntilAsync(pool, ids, views => views.All(v => v.Status.IsFinal()), deadline, "every job to end", log);
            var wall = clock.Elapsed.TotalSeconds;
            var completions = CompletionLog().Matches(coordinator.Log).Select(m => m.Groups[1].Value).GroupBy(id => id).ToList();
            var duplicates = completions.Sum(g => g.Count() - 1)
                + final.Sum(v => Math.Max(0, v.Attempts.Count(a => a.Outcome == "succeeded") - 1));
            return new FailoverSummary(
                Submitted: ids.Count,
                Succeeded: final.Count(v => v.Status == JobStatus.Succeeded),
                Failed: final.Count(v => v.Status != JobStatus.Succeeded),
                Duplicates: duplicates,
                Lost: ids.Count - final.Count(v => v.Status.IsFinal()),
                RequeueSeconds: Math.Round(requeueSeconds, 2),
                JobsInFlightOnKilledMiner: final.Count(v => inFlight.Contains(v.Id) && v.Attempts.Count > 1),
                JobsOnThirdMiner: final.Count(v => v.Result is { } r && OnSilo(r.Silo, minerC)),
                RetriedJobs: final.Count(v => v.Attempts.Count > 1),
                WallSeconds: Math.Round(wall, 1));
        }
        finally
        {
            foreach (var process in processes)
                process.Dispose();
        }
    }

    private static PoolProcess Started(List<PoolProcess> processes, PoolProcess process)
    {
        processes.Add(process);
        return process;
    }

    /// <summary>Silo addresses print as <c>S127.0.0.1:PORT:GENERATION</c>.</summary>
    private static bool OnSilo(string? silo, PoolProcess process) =>
        silo is not null && silo.Contains(string.Create(CultureInfo.InvariantCulture, $":{process.SiloPort}:"), StringComparison.Ordinal);

    private List<JobView> RunningOn(IEnumerable<JobView> views, PoolProcess miner) =>
        views.Where(v => v.Status is JobStatus.Assigned or JobStatus.Running && (v.Progress?.Step ?? 0) < MaxTokens / 2 && v.Attempts.Count > 0 && v.Attempts[^1].EndedAt is null && OnSilo(v.Attempts[^1].Silo, miner)).ToList();

    private static bool MovedOff(JobView view, PoolProcess killed) => view.Status switch
    {
        JobStatus.Running => view.Attempts[^1] is { EndedAt: null } attempt && attempt.Silo is not null && !OnSilo(attempt.Silo, killed),
        JobStatus.Succeeded => true, // elsewhere, or on the killed miner just before the kill (then it was never in flight)
        _ => view.Status.IsFinal(),
    };

    [GeneratedRegex(@"Job ([0-9a-f-]{36}) succeeded")]
    private static partial Regex CompletionLog();
}
