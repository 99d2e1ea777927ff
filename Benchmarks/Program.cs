using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using PoolAI.Benchmarks;
using PoolAI.Benchmarks.Failover;
using PoolAI.Benchmarks.Scheduling;
using PoolAI.Libraries;
using Spectre.Console;

// Usage (scripts/bench.sh runs "all" with a PostgreSQL database it starts):
//   dotnet run -c Release --project Benchmarks -- all [--database CONNECTION] [--quick]
//   ... -- noop --storage memory|postgres [--database CONNECTION] [--jobs 20000] [--in-flight 500] [--latency-jobs 2000] [--repeats 3]
//   ... -- hangfire --database CONNECTION [--jobs 20000] [--repeats 3]
//   ... -- scale [--miners 1000] [--slots 4] [--jobs 100000]
//   ... -- generation [--tokens 200] [--repeats 3]        (through the pool at 1, 4 and 16, the decoder directly, PyTorch)
//   ... -- vs-torch [--tokens 200] [--repeats 3]          (the quick part: one stream through the pool, the decoder directly, PyTorch)
//   ... -- pool-vs-direct [--tokens 500] [--repeats 5]
//   ... -- failover --database CONNECTION [--jobs 300] [--tokens 600]
//   ... -- volume-pool [--megabytes 256] [--repeats 3]      (write, read, degraded read, rebuild through a pool of 6 miners; local copy)
//   ... -- volume-codec [--shard-bytes 1048576] [--repeats 5] [--seconds 1] [--path avx2]   (Reed–Solomon rs:4+2 and rs:10+4 on one core; scripts/volume-bench.sh compares with ISA-L)
//   ... -- open-miners [--tokens 200] [--repeats 3] [--miners 100] [--jobs 20000] [--connections 2000] [--idle-seconds 30]
// Every command but "all" prints its figures as one JSON line on standard output, progress on standard error.
var command = args.Length > 0 ? args[0] : "all";
void Log(string line) => Console.Error.WriteLine($"[{DateTime.Now:HH:mm:ss}] {line}");
string? Text(string name) => Array.IndexOf(args, name) is var at && at >= 0 && at + 1 < args.Length ? args[at + 1] : null;
int Argument(string name, int fallback) =>
    int.TryParse(Text(name), CultureInfo.InvariantCulture, out var value) && value > 0 ? value : fallback;

switch (command)
{
    case "failover":
        if (string.IsNullOrWhiteSpace(Text("--database")))
            return Refuse("failover", "--database", "an empty PostgreSQL database's connection string is required");
        var scenario = new FailoverScenario(Text("--database")!, Log) { Jobs = Argument("--jobs", 300), MaxTokens = Argument("--tokens", 600) };
        var summary = await scenario.RunAsync();
        Console.WriteLine(JsonSerializer.Serialize(summary));
        return summary.Succeeded == summary.Submitted && summary.Duplicates == 0 && summary.Lost == 0 ? 0 : 1;

    case "noop":
        var storage = Text("--storage") ?? "memory";
        if (storage is not ("memory" or "postgres"))
            return Refuse("noop", "--storage", $"must be memory or postgres; was '{storage}'");
        if (storage == "postgres" && string.IsNullOrWhiteSpace(Text("--database")))
            return Refuse("noop", "--database", "is required with --storage postgres");
        return Emit(await NoopJobs.RunAsync(storage, Text("--database"), Argument("--latency-jobs", 2000), Argument("--jobs", 20000), Argument("--in-flight", 500), Argument("--repeats", 3), Log));

    case "hangfire":
        if (string.IsNullOrWhiteSpace(Text("--database")))
            return Refuse("hangfire", "--database", "a PostgreSQL connection string is required");
        return Emit(await HangfireNoop.RunAsync(Text("--database")!, Argument("--jobs", 20000), Argument("--repeats", 3), Log));

    case "scale":
        return Emit(await ScaleRun.RunAsync(Argument("--miners", 1000), Argument("--slots", 4), Argument("--jobs", 100_000), Log));

    case "generation":
        TorchLibraries.EnsureLoaded();
        return Emit(await GenerationBenchmark.RunAsync(Argument("--tokens", 200), Argument("--repeats", 3), [1, 4, 16], Log));

    case "vs-torch":
        TorchLibraries.EnsureLoaded();
        return Emit(await GenerationBenchmark.RunAsync(Argument("--tokens", 200), Argument("--repeats", 3), [1], Log));

    case "pool-vs-direct":
        TorchLibraries.EnsureLoaded();
        return Emit(await PoolVersusDirect.RunAsync(Argument("--tokens", 500), Argument("--repeats", 5), Text("--storage") ?? "sqlite"));

    case "open-miners":
        TorchLibraries.EnsureLoaded();
        return Emit(await PoolAI.Benchmarks.Miners.OpenMinerBenchmark.RunAsync(Argument("--tokens", 200), Argument("--repeats", 3), Argument("--miners", 100),
            Argument("--jobs", 20000), Argument("--connections", 2000), TimeSpan.FromSeconds(Argument("--idle-seconds", 30)), Log));

    case "volume-pool":
        return Emit(await PoolAI.Benchmarks.Volumes.VolumePoolBenchmark.RunAsync(Argument("--megabytes", 256), Argument("--repeats", 3), Log));
    case "volume-codec":
        return Emit(PoolAI.Benchmarks.Volumes.CodecBenchmark.Run(Argument("--shard-bytes", 1 << 20), Argument("--repeats", 5),
            double.TryParse(Text("--seconds"), CultureInfo.InvariantCulture, out var seconds) && seconds > 0 ? seconds : 1, Log, Text("--path")));

    case "all":
        return await RunAllAsync();

    default:
        return Refuse(command, "command", "must be one of all, noop, hangfire, scale, generation, vs-torch, pool-vs-direct, failover, open-miners, volume-codec, volume-pool");
}

// Runs every benchmark in a child process of its own (so one's memory and threads do not weigh on the next, and the
// scale run's peak memory is its own), prints the table and writes artifacts/bench.json.
async Task<int> RunAllAsync()
{
    var database = Text("--database");
    var quick = args.Contains("--quick");
    var libraries = TorchLibraries.EnsureLoaded();
    AnsiConsole.MarkupLineInterpolated($"PoolAI benchmarks: {Environment.ProcessorCount} cores, {Environment.OSVersion}, torch {libraries.LibTorchVersion} with {libraries.Threads} threads{(quick ? ", quick sizes" : string.Empty)}");
    var noopJobs = quick ? "5000" : "20000";
    var databaseJobs = quick ? "3000" : "10000"; // Hangfire runs about 100 jobs/s here: 3 repeats of 10,000 take minutes
    var scaleJobs = quick ? "20000" : "100000";

    var memory = await ChildAsync("noop", "--storage", "memory", "--jobs", noopJobs);
    JsonNode? postgres = null, hangfire = null;
    if (database is not null)
    {
        postgres = await ChildAsync("noop", "--storage", "postgres", "--database", database, "--jobs", databaseJobs, "--latency-jobs", "500");
        hangfire = await ChildAsync("hangfire", "--database", database, "--jobs", databaseJobs);
    }
    else
    {
        Log("no --database: the PostgreSQL and Hangfire runs are skipped");
    }

    var generation = await ChildAsync("generation", "--tokens", quick ? "100" : "200", "--repeats", "3");
    var direct = await ChildAsync("pool-vs-direct", "--tokens", quick ? "200" : "500", "--repeats", quick ? "3" : "9");
    var scaleMany = await ChildAsync("scale", "--miners", "1000", "--slots", "4", "--jobs", scaleJobs);
    var scaleFew = await ChildAsync("scale", "--miners", "10", "--slots", "4", "--jobs", scaleJobs);
    var open = await ChildAsync("open-miners", "--tokens", quick ? "100" : "200", "--jobs", noopJobs, "--connections", quick ? "500" : "2000", "--idle-seconds", quick ? "10" : "30");

    double Num(JsonNode? node, params string[] path)
    {
        foreach (var key in path)
            node = node?[key];
        return node?.GetValue<double>() ?? double.NaN;
    }

    var figures = new JsonObject
    {
        ["machine"] = $"{Environment.ProcessorCount} cores, {Environment.OSVersion}",
        ["noop_inmemory.p50_ms"] = Round(Num(memory, "P50Ms"), 3),
        ["noop_inmemory.p99_ms"] = Round(Num(memory, "P99Ms"), 3),
        ["noop_inmemory.jobs_per_s"] = Round(Num(memory, "JobsPerSecond", "Median")),
        ["noop_inmemory.jobs_per_s_min"] = Round(Num(memory, "JobsPerSecond", "Min")),
        ["noop_inmemory.jobs_per_s_max"] = Round(Num(memory, "JobsPerSecond", "Max")),
        ["noop_postgres.jobs_per_s"] = Round(Num(postgres, "JobsPerSecond", "Median")),
        ["noop_postgres.jobs_per_s_min"] = Round(Num(postgres, "JobsPerSecond", "Min")),
        ["noop_postgres.jobs_per_s_max"] = Round(Num(postgres, "JobsPerSecond", "Max")),
        ["noop_postgres.p50_ms"] = Round(Num(postgres, "P50Ms"), 3),
        ["hangfire_postgres.jobs_per_s"] = Round(Num(hangfire, "Median")),
        ["hangfire_postgres.jobs_per_s_min"] = Round(Num(hangfire, "Min")),
        ["hangfire_postgres.jobs_per_s_max"] = Round(Num(hangfire, "Max")),
        ["noop.jobs"] = int.Parse(noopJobs, CultureInfo.InvariantCulture),
        ["noop_postgres.jobs"] = int.Parse(databaseJobs, CultureInfo.InvariantCulture),
        ["generation.tokens_per_s_1"] = Round(Num(generation, "Pool", "TokensPerSecond", "1", "Median")),
        ["generation.tokens_per_s_1_min"] = Round(Num(generation, "Pool", "TokensPerSecond", "1", "Min")),
        ["generation.tokens_per_s_1_max"] = Round(Num(generation, "Pool", "TokensPerSecond", "1", "Max")),
        ["generation.tokens_per_s_4"] = Round(Num(generation, "Pool", "TokensPerSecond", "4", "Median")),
        ["generation.tokens_per_s_16"] = Round(Num(generation, "Pool", "TokensPerSecond", "16", "Median")),
        ["generation.tokens_per_s_16_min"] = Round(Num(generation, "Pool", "TokensPerSecond", "16", "Min")),
        ["generation.tokens_per_s_16_max"] = Round(Num(generation, "Pool", "TokensPerSecond", "16", "Max")),
        ["generation.torch_tokens_per_s_2_threads"] = Round(Num(Torch(generation, 2), "TokensPerSecond", "Median")),
        ["generation.torch_tokens_per_s_2_threads_min"] = Round(Num(Torch(generation, 2), "TokensPerSecond", "Min")),
        ["generation.torch_tokens_per_s_2_threads_max"] = Round(Num(Torch(generation, 2), "TokensPerSecond", "Max")),
        ["generation.torch_tokens_per_s_1_thread"] = Round(Num(Torch(generation, 1), "TokensPerSecond", "Median")),
        ["generation.torch_skipped"] = Torch(generation, 2)?["SkipReason"]?.GetValue<string>(),
        ["generation.torch_blas"] = Torch(generation, 1)?["Blas"]?.GetValue<string>(),
        ["generation.pool_over_torch_threads"] = generation?["TorchThreads"]?.GetValue<int>(),
        ["generation.pool_over_torch"] = Round(Num(generation, "PoolOverTorch", "Median"), 2),
        ["generation.pool_over_torch_min"] = Round(Num(generation, "PoolOverTorch", "Min"), 2),
        ["generation.pool_over_torch_max"] = Round(Num(generation, "PoolOverTorch", "Max"), 2),
        ["generation.direct_tokens_per_s_1"] = Round(Direct(generation, 1, 1)),
        ["generation.direct_tokens_per_s_16"] = Round(Direct(generation, 16, 1)),
        ["generation.direct_tokens_per_s_1_2_threads"] = Round(Direct(generation, 1, 2)),
        ["generation.direct_tokens_per_s_16_2_threads"] = Round(Direct(generation, 16, 2)),
        ["pool_vs_direct.ratio"] = Round(Num(direct, "Ratio", "Median"), 3),
        ["pool_vs_direct.ratio_min"] = Round(Num(direct, "Ratio", "Min"), 3),
        ["pool_vs_direct.ratio_max"] = Round(Num(direct, "Ratio", "Max"), 3),
        ["pool_vs_direct.direct_tokens_per_s"] = Round(Num(direct, "Direct", "Median")),
        ["scale.jobs"] = int.Parse(scaleJobs, CultureInfo.InvariantCulture),
        ["scale.peak_mb"] = Num(scaleMany, "PeakMb"),
        ["scale.peak_mb_10_miners"] = Num(scaleFew, "PeakMb"),
        ["scale.jobs_per_s_1000"] = Round(Num(scaleMany, "DispatchJobsPerSecond")),
        ["scale.jobs_per_s_10"] = Round(Num(scaleFew, "DispatchJobsPerSecond")),
        ["scale.throughput_ratio_1000_vs_10"] = Round(Num(scaleMany, "DispatchJobsPerSecond") / Num(scaleFew, "DispatchJobsPerSecond"), 3),
        ["open_miners.tokens_per_s_1_in_cluster"] = Round(Num(open, "InCluster", "One", "Median")),
        ["open_miners.tokens_per_s_1_open"] = Round(Num(open, "Open", "One", "Median")),
        ["open_miners.tokens_per_s_16_in_cluster"] = Round(Num(open, "InCluster", "Sixteen", "Median")),
        ["open_miners.tokens_per_s_16_open"] = Round(Num(open, "Open", "Sixteen", "Median")),
        ["open_miners.ratio_1"] = Round(Num(open, "RatioOne"), 3),
        ["open_miners.ratio_16"] = Round(Num(open, "RatioSixteen"), 3),
        ["open_miners.noop_jobs_per_s_100_miners"] = Round(Num(open, "NoopJobsPerSecond", "Median")),
        ["open_miners.noop_jobs_per_s_min"] = Round(Num(open, "NoopJobsPerSecond", "Min")),
        ["open_miners.noop_jobs_per_s_max"] = Round(Num(open, "NoopJobsPerSecond", "Max")),
        ["open_miners.connections"] = Num(open, "Connections"),
        ["open_miners.kib_per_idle_connection"] = Round(Num(open, "KibPerConnection"), 1),
        ["open_miners.heartbeat_cpu_percent_of_core"] = Round(Num(open, "HeartbeatCpuPercentOfCore"), 2),
    };

    var g1 = Num(generation, "Pool", "TokensPerSecond", "1", "Median");
    var table = new Table().AddColumns("benchmark", "figure", "target", "met");
    void Row(string name, string figure, string target, bool? met) => table.AddRow(Markup.Escape(name), Markup.Escape(figure), Markup.Escape(target), met is null ? "-" : met.Value ? "[green]yes[/]" : "[red]no[/]");
    Row("no-op in memory, p50 / p99", $"{Num(memory, "P50Ms"):F3} / {Num(memory, "P99Ms"):F3} ms", "p50 ≤ 1 ms", Num(memory, "P50Ms") <= 1);
    Row("no-op in memory, jobs/s", Range(memory?["JobsPerSecond"]), "≥ 10,000", Num(memory, "JobsPerSecond", "Median") >= 10_000);
    Row("no-op PostgreSQL, jobs/s", Range(postgres?["JobsPerSecond"]), "≥ 2× Hangfire", postgres is null ? null : Num(postgres, "JobsPerSecond", "Median") >= 2 * Num(hangfire, "Median"));
    Row("Hangfire PostgreSQL, jobs/s", Range(hangfire), "(reference)", null);
    Row("generation, tokens/s at 1 / 4 / 16", $"{g1:F0} / {Num(generation, "Pool", "TokensPerSecond", "4", "Median"):F0} / {Num(generation, "Pool", "TokensPerSecond", "16", "Median"):F0}", "16 ≥ 4× 1", Num(generation, "Pool", "TokensPerSecond", "16", "Median") >= 4 * g1);
    foreach (var threads in new[] { 2, 1 })
        Row($"PyTorch eager, one stream, {threads} thread(s), tokens/s (BLAS: {Path.GetFileName(Path.GetDirectoryName(Torch(generation, threads)?["Blas"]?.GetValue<string>() ?? "/?/"))})", Torch(generation, threads)?["SkipReason"] is { } skipped ? $"skipped: {skipped}" : Range(Torch(generation, threads)?["TokensPerSecond"]), "(reference)", null);
    Row($"pool one stream / PyTorch one stream ({generation?["TorchThreads"]} thread(s), the faster)", Range(generation?["PoolOverTorch"], "F2"), "≥ 1", generation?["PoolOverTorch"] is null ? null : Num(generation, "PoolOverTorch", "Median") >= 1);
    Row("native decoder directly, tokens/s at batch 1 / 16", $"{Direct(generation, 1, 1):F0} / {Direct(generation, 16, 1):F0} (2 threads: {Direct(generation, 1, 2):F0} / {Direct(generation, 16, 2):F0})", "(reference)", null);
    Row("pool / direct, one stream", Range(direct?["Ratio"], "F3"), "≥ 0.95", Num(direct, "Ratio", "Median") >= 0.95);
    Row("scale: peak memory (1000 miners)", $"{Num(scaleMany, "PeakMb"):F0} MB", "≤ 1,500 MB", Num(scaleMany, "PeakMb") <= 1500);
    Row("scale: dispatch 1000 vs 10 miners", $"{Num(scaleMany, "DispatchJobsPerSecond"):F0} / {Num(scaleFew, "DispatchJobsPerSecond"):F0} jobs/s", "≥ 50%", Num(scaleMany, "DispatchJobsPerSecond") >= 0.5 * Num(scaleFew, "DispatchJobsPerSecond"));
    Row("open miner / in-cluster miner, tokens/s at 1 and 16", $"{Num(open, "RatioOne"):F2} / {Num(open, "RatioSixteen"):F2}", "≥ 0.9", Math.Min(Num(open, "RatioOne"), Num(open, "RatioSixteen")) >= 0.9);
    Row("no-op through the miner channel, 100 miners, jobs/s", Range(open?["NoopJobsPerSecond"]), "≥ 5,000", Num(open, "NoopJobsPerSecond", "Median") >= 5_000);
    Row($"{Num(open, "Connections"):F0} idle open miners: KiB per connection / heartbeat CPU", $"{Num(open, "KibPerConnection"):F1} KiB / {Num(open, "HeartbeatCpuPercentOfCore"):F1} % of a core", "≤ 100 KiB / ≤ 5 %",
        Num(open, "KibPerConnection") <= 100 && Num(open, "HeartbeatCpuPercentOfCore") <= 5);
    AnsiConsole.Write(table);

    Directory.CreateDirectory("artifacts");
    var path = Path.Combine("artifacts", "bench.json");
    File.WriteAllText(path, figures.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
    AnsiConsole.MarkupLineInterpolated($"Figures written to {path}");
    return 0;
}

// Runs this program with the given arguments and returns the JSON its last standard-output line holds.
async Task<JsonNode?> ChildAsync(params string[] childArgs)
{
    var self = Environment.ProcessPath!;
    var start = new ProcessStartInfo(self) { RedirectStandardOutput = true, RedirectStandardError = false };
    if (Path.GetFileNameWithoutExtension(self) == "dotnet")
        start.ArgumentList.Add(typeof(Summary).Assembly.Location);
    foreach (var arg in childArgs)
        start.ArgumentList.Add(arg);
    Log($"benchmark: {string.Join(' ', childArgs.Select(a => a.Contains("Password", StringComparison.OrdinalIgnoreCase) || a.Contains("Host=", StringComparison.Ordinal) ? "<database>" : a))}");
    using var child = Process.Start(start)!;
    var output = await child.StandardOutput.ReadToEndAsync();
    await child.WaitForExitAsync();
    var last = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault();
    if (child.ExitCode != 0 || last is null)
    {
        Log($"benchmark {childArgs[0]} failed (exit {child.ExitCode}); its figures are missing");
        return null;
    }

    return JsonNode.Parse(last);
}

// The PyTorch reference run on the given thread count.
static JsonNode? Torch(JsonNode? generation, int threads) =>
    generation?["Torch"]?.AsArray().FirstOrDefault(t => t?["Threads"]?.GetValue<int>() == threads);

// Median tokens/s of the native decoder called directly at the given batch and thread count.
static double Direct(JsonNode? generation, int batch, int threads) =>
    generation?["Direct"]?.AsArray().FirstOrDefault(c => c?["Batch"]?.GetValue<int>() == batch && c?["Threads"]?.GetValue<int>() == threads)?["TokensPerSecond"]?["Median"]?.GetValue<double>() ?? double.NaN;

static string Range(JsonNode? summary, string format = "F0") => summary is null
    ? "not run"
    : string.Create(CultureInfo.InvariantCulture, $"{summary["Median"]!.GetValue<double>().ToString(format, CultureInfo.InvariantCulture)} ({summary["Min"]!.GetValue<double>().ToString(format, CultureInfo.InvariantCulture)}–{summary["Max"]!.GetValue<double>().ToString(format, CultureInfo.InvariantCulture)})");

static JsonNode? Round(double value, int digits = 1) => double.IsNaN(value) || double.IsInfinity(value) ? null : Math.Round(value, digits);

static int Emit<T>(T figures)
{
    Console.WriteLine(JsonSerializer.Serialize(figures));
    return 0;
}

static int Refuse(string command, string field, string rule)
{
    Console.Error.WriteLine($"poolai benchmarks {command}: {field}: {rule}");
    return 2;
}
