using System.Globalization;
using PoolAI.Jobs;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace PoolAI.Client.Cli;

/// <summary>
/// A job as <c>poolai status</c> shows it (without <c>--json</c>): its state, request, progress, result summary and
/// artifacts in one grid, and its attempts (silo, worker, outcome) in a table. Values are the job's own; long generated
/// text is cut to <see cref="TextPreview"/> characters (<c>--json</c> has all of it).
/// </summary>
internal static class JobStatusTable
{
    /// <summary>Characters of the generated text shown.</summary>
    public const int TextPreview = 300;

    /// <summary>The job's grid and, when it has any, its attempts' table.</summary>
    public static IRenderable Render(JobView view)
    {
        var grid = new Grid().AddColumn(new GridColumn().NoWrap().PadRight(2)).AddColumn();
        void Row(string name, string? value) => grid.AddRow(new Markup($"[bold]{name}[/]"), new Text(value ?? "—"));

        Row("job", view.Id.ToString());
        Row("status", view.Status.ToString());
        Row("message", view.StatusMessage);
        Row("kind", view.Spec.Kind.ToString());
        Row("model", view.Spec.Model);
        Row("requester", view.Spec.Requester);
        Row("priority", view.Spec.Priority.ToString(CultureInfo.InvariantCulture));
        if (view.Spec.Requirements is { IsEmpty: false } requirements)
            Row("requires", requirements.ToString());
        Row("created", Time(view.CreatedAt));
        Row("updated", Time(view.UpdatedAt));
        if (view.Progress is { } progress && !view.Status.IsFinal())
            Row("progress", $"{progress.Step}{(progress.Total is { } total ? $" of {total}" : "")} {progress.Unit}{(progress.Message is { } message ? $": {message}" : "")}");
        if (view.Result is { } result)
        {
            Row(result.Partial ? "result (partial)" : "result", Summary(result));
            if (result.Text is { } text)
                Row("text", text.Text.Length <= TextPreview ? text.Text : $"{text.Text[..TextPreview]}… ({text.Text.Length - TextPreview} more characters; --json shows all)");
            else if (result.Output is SystemTaskOutput { Summary.Length: > 0 } task)
                Row("summary", task.Summary);
        }

        foreach (var artifact in view.Artifacts ?? [])
            Row("artifact", $"{artifact.Id} {artifact.Name} ({artifact.Size} bytes, {artifact.MediaType}){(view.Checkpoint?.Artifact == artifact ? $", checkpoint at step {view.Checkpoint.Step}" : "")}");

        if (view.WebhookAttempts is { Count: > 0 } deliveries && deliveries[^1] is var last)
        {
            var outcome = last.Delivered ? "delivered" : last.StatusCode is { } status ? $"HTTP {status}" : last.Error ?? "no answer";
            Row("webhook", $"{deliveries.Count} {(deliveries.Count == 1 ? "try" : "tries")}, last at {Time(last.At)}: {outcome}");
        }
        if (view.Attempts.Count == 0)
            return grid;

        var attempts = new Table().Border(TableBorder.Rounded).AddColumns("attempt", "silo", "worker", "device", "started", "ended", "outcome");
        foreach (var attempt in view.Attempts)
        {
            attempts.AddRow(
                new Text(attempt.Number.ToString(CultureInfo.InvariantCulture)), new Text(attempt.Silo ?? "—"), new Text(attempt.Worker ?? "—"),
                new Text(attempt.Device ?? "—"), new Text(Time(attempt.StartedAt)), new Text(attempt.EndedAt is { } ended ? Time(ended) : "—"),
                new Text((attempt.Outcome ?? "running") + (attempt.HandedBack ? " (handed back)" : "")));
        }

        return new Rows(grid, new Text(""), attempts);
    }

    /// <summary>What the result amounts to: work done, where and how fast, or where it came from.</summary>
    private static string Summary(JobResult result)
    {
        var (done, unit) = result.Text is { } text ? ($"{text.TokensGenerated} tokens", "tokens") : ($"{result.WorkUnits} work units", "units");
        var finish = result.Text is { } t ? $", finish {t.FinishReason}" : string.Empty;
        return result.CachedFrom is { } source
            ? $"{done} from the result cache (job {source}){finish}"
            : $"{done} in {result.Elapsed.TotalSeconds.ToString("0.00", CultureInfo.InvariantCulture)} s ({result.UnitsPerSecond.ToString("0", CultureInfo.InvariantCulture)} {unit}/s){finish}, silo {result.Silo}";
    }

    private static string Time(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) + " UTC";
}
