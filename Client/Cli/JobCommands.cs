using System.CommandLine;
using PoolAI.Jobs;
using Spectre.Console;

namespace PoolAI.Client.Cli;

/// <summary><c>poolai status JOB</c>, <c>poolai cancel JOB</c> and <c>poolai priority JOB N</c> against a running pool.</summary>
internal static class JobCommands
{
    public static Command Status()
    {
        var id = new Argument<Guid>("job") { Description = "Job id" }.AsJobId();
        var json = new Option<bool>("--json") { Description = "Print the whole job as JSON (snake_case, as the HTTP API)" };
        var command = new Command("status", "Show a job's status, attempts and result") { id, json };
        command.SetAction(async (result, cancellationToken) => await CliRunner.RunAsync(async (connection, _) =>
        {
            var view = await connection.Client.GetAsync(result.GetValue(id));
            if (result.GetValue(json))
                Console.WriteLine(System.Text.Json.JsonSerializer.Serialize(view, JsonOutput.Options));
            else
                AnsiConsole.Write(JobStatusTable.Render(view));
            return CliRunner.Ok;
        }, validate: null, cancellationToken));
        return command;
    }

    public static Command Cancel()
    {
        var id = new Argument<Guid>("job") { Description = "Job id" }.AsJobId();
        var reason = new Option<string>("--reason") { Description = "Why", DefaultValueFactory = _ => "by requester" };
        var command = new Command("cancel", "Cancel a job that has not finished") { id, reason };
        command.SetAction(async (result, cancellationToken) => await CliRunner.RunAsync(async (connection, _) =>
        {
            var view = await connection.Client.CancelAsync(result.GetValue(id), result.GetValue(reason)!);
            Console.WriteLine($"{view.Id}: {view.Status}, {view.StatusMessage}");
            return CliRunner.Ok;
        }, validate: null, cancellationToken));
        return command;
    }

    public static Command Priority()
    {
        var id = new Argument<Guid>("job") { Description = "Job id" }.AsJobId();
        var priority = new Argument<int>("priority") { Description = $"New priority, {JobSpecRules.MinPriority}…{JobSpecRules.MaxPriority} (higher runs first)" }
            .AsNumber($"between {JobSpecRules.MinPriority} and {JobSpecRules.MaxPriority}");
        var command = new Command("priority", "Change the priority of a job that has not finished (queued, assigned or running)") { id, priority };
        command.SetAction(async (result, cancellationToken) =>
        {
            var value = result.GetValue(priority);
            return await CliRunner.RunAsync(async (connection, _) =>
            {
                var view = await connection.Client.SetPriorityAsync(result.GetValue(id), value);
                Console.WriteLine($"{view.Id}: {view.Status}, priority {view.Spec.Priority}");
                return CliRunner.Ok;
            }, validate: _ => JobSpecRules.ValidatePriority(value), cancellationToken); // checked before connecting, by the pool's own rule
        });
        return command;
    }
}

/// <summary>JSON as the CLI prints it: indented, snake_case, enums by name, and text as written (no <c>\u0027</c> for <c>'</c>: the output is read by people and parsers, never embedded in HTML).</summary>
internal static class JsonOutput
{
    public static readonly System.Text.Json.JsonSerializerOptions Options = new()
    {
        WriteIndented = true,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        PropertyNamingPolicy = System.Text.Json.JsonNamingPolicy.SnakeCaseLower,
        Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter() },
    };
}
