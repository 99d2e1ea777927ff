using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using PoolAI.Benchmarks;
using PoolAI.Benchmarks.Failover;
using PoolAI.Libraries;
using Spectre.Console;

// Usage: dotnet run -c Release --project Benchmarks -- [--tokens 500] [--repeats 5]
//        dotnet run -c Release --project Benchmarks -- failover --database CONNECTION [--jobs 300] [--tokens 40]
if (args.Length > 0 && args[0] == "failover")
{
    var at = Array.IndexOf(args, "--database");
    if (at < 0 || at + 1 >= args.Length || string.IsNullOrWhiteSpace(args[at + 1]))
    {
        Console.Error.WriteLine("poolai benchmarks failover: --database: an empty PostgreSQL database's connection string is required");
        return 2;
    }

    var scenario = new FailoverScenario(args[at + 1], line => Console.Error.WriteLine($"[{DateTime.Now:HH:mm:ss}] {line}"))
    {
        Jobs = Argument("--jobs", 300),
        MaxTokens = Argument("--tokens", 40),
    };
    var summary = await scenario.RunAsync();
    Console.WriteLine(JsonSerializer.Serialize(summary));
    return summary.Succeeded == summary.Submitted && summary.Duplicates == 0 && summary.Lost == 0 ? 0 : 1;
}

var tokens = Argument("--tokens", 500);
var repeats = Argument("--repeats", 5);
var libraries = TorchLibraries.EnsureLoaded();
AnsiConsole.MarkupLineInterpolated($"PoolAI benchmarks: {Environment.ProcessorCount} cores, torch {libraries.LibTorchVersion} with {libraries.Threads} threads, {tokens} tokens per generation, {repeats} repeats (median, min–max)");

var results = new List<PoolVersusDirectResult>();
foreach (var storage in new[] { "sqlite", "memory" })
    results.Add(await PoolVersusDirect.RunAsync(tokens, repeats, storage));

var table = new Table().AddColumns("benchmark", "storage", "direct tokens/s", "pool tokens/s", "pool / direct (paired)", "target");
foreach (var r in results)
{
    table.AddRow("shakespeare-char, 1 stream", r.Storage, Format(r.Direct), Format(r.Pool), string.Create(CultureInfo.InvariantCulture, $"{r.Ratio.Median:F3} ({r.Ratio.Min:F2}–{r.Ratio.Max:F2})"), "≥ 0.95");
}

AnsiConsole.Write(table);

var sqlite = results.Single(r => r.Storage == "sqlite");
var memory = results.Single(r => r.Storage == "memory");
var json = new JsonObject
{
    ["machine"] = $"{Environment.ProcessorCount} cores, {Environment.OSVersion}",
    ["generation.tokens"] = tokens,
    ["generation.repeats"] = repeats,
    ["generation.direct_tokens_per_s"] = Round(sqlite.Direct.Median),
    ["generation.pool_tokens_per_s"] = Round(sqlite.Pool.Median),
    ["generation.tokens_per_s_1"] = Round(sqlite.Pool.Median),
    ["pool_vs_direct.ratio"] = Math.Round(sqlite.Ratio.Median, 3),
    ["pool_vs_direct.ratio_min"] = Math.Round(sqlite.Ratio.Min, 3),
    ["pool_vs_direct.ratio_max"] = Math.Round(sqlite.Ratio.Max, 3),
    ["pool_vs_direct.ratio_memory_storage"] = Math.Round(memory.Ratio.Median, 3),
};
Directory.CreateDirectory("artifacts");
var path = Path.Combine("artifacts", "bench.json");
File.WriteAllText(path, json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
AnsiConsole.MarkupLineInterpolated($"Figures written to {path}");
return 0;

static string Format(Summary s) =>
    string.Create(CultureInfo.InvariantCulture, $"{s.Median:F0} ({s.Min:F0}–{s.Max:F0})");

static double Round(double value) => Math.Round(value, 1);

int Argument(string name, int fallback)
{
    var at = Array.IndexOf(args, name);
    return at >= 0 && at + 1 < args.Length && int.TryParse(args[at + 1], CultureInfo.InvariantCulture, out var value) && value > 0 ? value : fallback;
}
