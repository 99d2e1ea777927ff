using System.CommandLine;
using System.Globalization;
using PoolAI.Rewards;
using Spectre.Console;

namespace PoolAI.Client.Cli;

/// <summary><c>poolai rewards WORKER</c> and <c>poolai leaderboard</c> against a running pool.</summary>
internal static class RewardCommands
{
    public static Command Rewards()
    {
        var worker = new Argument<string>("worker") { Description = "Worker id (the miner's PoolAI:Worker:WorkerId)" };
        var limit = new Option<int>("--limit") { Description = "Recent entries to show (1–1000)", DefaultValueFactory = _ => 10 }.AsNumber("between 1 and 1000");
        var json = new Option<bool>("--json") { Description = "Print summary and entries as JSON" };
        var command = new Command("rewards", "Show a worker's balance, streak, trust, statistics and recent ledger entries") { worker, limit, json };
        command.SetAction(async (result, cancellationToken) => await CliRunner.RunAsync(async (connection, _) =>
        {
            var id = result.GetValue(worker)!;
            var summary = await connection.Client.GetRewardsAsync(id); // a name no worker has: KeyNotFoundException, exit 2
            var page = await connection.Client.GetRewardHistoryAsync(id, limit: result.GetValue(limit));
            if (result.GetValue(json))
            {
                Console.WriteLine(System.Text.Json.JsonSerializer.Serialize(new { summary, entries = page.Entries }, JsonOutput.Options));
                return CliRunner.Ok;
            }

            var stats = summary.Statistics;
            AnsiConsole.MarkupLineInterpolated($"[bold]{summary.Worker}[/]: balance [bold]{summary.Balance.ToString("0.000000", CultureInfo.InvariantCulture)}[/] credits in {summary.Entries} entries");
            var next = summary.StreakToNextLevel > 0 ? $"{summary.StreakToNextLevel} more to level {summary.StreakLevel + 1}" : "top level";
            AnsiConsole.MarkupLineInterpolated($"Streak {summary.Streak} (level {summary.StreakLevel}, {Percent(summary.StreakBonus, "+0")}; {next}), quality factor {summary.QualityFactor.ToString("0.00", CultureInfo.InvariantCulture)}");
            AnsiConsole.MarkupLineInterpolated($"Jobs {stats.JobsSucceeded} paid, {stats.JobsFailed} failed (success {Percent(stats.SuccessRate, "0.0")})");
            AnsiConsole.MarkupLineInterpolated($"Verifications {stats.VerificationsPassed} passed, {stats.VerificationsFailed} failed (verified {Percent(stats.VerifiedRate, "0.0")}); mean {stats.MeanTokensPerSecond.ToString("0.#", CultureInfo.InvariantCulture)} tokens/s");
            foreach (var day in stats.EarnedPerDay.TakeLast(7))
                AnsiConsole.MarkupLineInterpolated($"  {day.Day:yyyy-MM-dd}: {day.Amount.ToString("0.000000", CultureInfo.InvariantCulture)}");
            if (summary.Suspicions.Count > 0)
            {
                AnsiConsole.MarkupLineInterpolated($"[yellow]{summary.Suspicions.Count} suspicion(s):[/]");
                foreach (var suspicion in summary.Suspicions)
                    AnsiConsole.MarkupLineInterpolated($"  {suspicion.At:u} {suspicion.Reason}");
            }

            // The job id is shortened (--json has every field in full).
            var table = new Table().AddColumns("#", "time (UTC)", "kind", "job", "units", "speed", "quality", "streak", "total");
            foreach (var e in page.Entries)
            {
                table.AddRow(
                    e.Sequence.ToString(CultureInfo.InvariantCulture), e.At.UtcDateTime.ToString("MM-dd HH:mm:ss", CultureInfo.InvariantCulture),
                    e.Kind == RewardEntryKind.Credit ? "credit" : $"fix #{e.Corrects}", e.JobId.ToString("N")[..8],
                    e.WorkUnits.ToString(CultureInfo.InvariantCulture), e.SpeedFactor.ToString("0.00", CultureInfo.InvariantCulture),
                    e.QualityFactor.ToString("0.00", CultureInfo.InvariantCulture), Percent(e.StreakBonus, "+0"),
                    e.Total.ToString("0.000000", CultureInfo.InvariantCulture));
            }

            AnsiConsole.Write(table);
            return CliRunner.Ok;
        }, validate: _ =>
        {
            if (result.GetValue(limit) is < 1 or > 1000)
                throw new PoolAI.Jobs.JobValidationException("--limit", $"must be between 1 and 1000, was {result.GetValue(limit)}");
        }, cancellationToken));
        return command;
    }

    private static string Percent(double fraction, string format) => (fraction * 100).ToString(format, CultureInfo.InvariantCulture) + "%";

    public static Command Leaderboard()
    {
        var period = new Option<LeaderboardPeriod>("--period") { Description = "day, week, month or all", DefaultValueFactory = _ => LeaderboardPeriod.Week }.AsChoice();
        var top = new Option<int>("--top") { Description = "Rows (1–1000)", DefaultValueFactory = _ => 10 }.AsNumber("between 1 and 1000");
        var json = new Option<bool>("--json") { Description = "Print the rows as JSON" };
        var command = new Command("leaderboard", "Show the workers who earned most in a period") { period, top, json };
        command.SetAction(async (result, cancellationToken) => await CliRunner.RunAsync(async (connection, _) =>
        {
            var rows = await connection.Client.GetLeaderboardAsync(result.GetValue(period), result.GetValue(top));
            if (result.GetValue(json))
            {
                Console.WriteLine(System.Text.Json.JsonSerializer.Serialize(rows, JsonOutput.Options));
                return CliRunner.Ok;
            }

            var table = new Table().AddColumns("rank", "worker", "earned", "jobs");
            foreach (var row in rows)
                table.AddRow(row.Rank.ToString(CultureInfo.InvariantCulture), row.Worker, row.Earned.ToString("0.000000", CultureInfo.InvariantCulture), row.Jobs.ToString(CultureInfo.InvariantCulture));
            AnsiConsole.MarkupLineInterpolated($"[bold]Leaderboard[/] ({result.GetValue(period).ToString().ToLowerInvariant()})");
            AnsiConsole.Write(table);
            return CliRunner.Ok;
        }, validate: _ =>
        {
            if (result.GetValue(top) is < 1 or > 1000)
                throw new PoolAI.Jobs.JobValidationException("--top", $"must be between 1 and 1000, was {result.GetValue(top)}");
        }, cancellationToken));
        return command;
    }
}
