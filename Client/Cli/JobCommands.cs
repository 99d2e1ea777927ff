using System.CommandLine;
using PoolAI.Jobs;

namespace PoolAI.Client.Cli;

/// <summary><c>poolai status JOB</c> and <c>poolai cancel JOB</c> against a running pool.</summary>
internal static class JobCommands
{
    public static Command Status()
    {
        var id = new Argument<Guid>("job") { Description = "Job id" };
        var command = new Command("status", "Show a job's status, attempts and result") { id };
        command.SetAction(async (result, cancellationToken) => await CliRunner.RunAsync(async (connection, _) =>
        {
            var view = await connection.Client.GetAsync(result.GetValue(id));
            Console.WriteLine(System.Text.Json.JsonSerializer.Serialize(view, JsonOutput.Options));
            return CliRunner.Ok;
        }, validate: null, cancellationToken));
        return command;
    }

    public static Command Cancel()
    {
        var id = new Argument<Guid>("job") { Description = "Job id" };
        var reason = new Option<string>("--reason") { Description = "Why", DefaultValueFactory = _ => "by requester" };
        var command = new Command("cancel", "Cancel a job that has not finished") { id, reason };
        command.SetAction(async (result, cancellationToken) => await CliRunner.RunAsync(async (connection, _) =>
        {
            var before = await connection.Client.GetAsync(result.GetValue(id));
            if (before.Status.IsFinal())
            {
                Console.WriteLine($"{before.Id}: already finished ({before.Status}); nothing to cancel");
                return CliRunner.Ok;
            }

            var view = await connection.Client.CancelAsync(result.GetValue(id), result.GetValue(reason)!);
            Console.WriteLine($"{view.Id}: {view.Status}, {view.StatusMessage}");
            return CliRunner.Ok;
        }, validate: null, cancellationToken));
        return command;
    }
}

/// <summary>JSON as the CLI prints it.</summary>
internal static class JsonOutput
{
    public static readonly System.Text.Json.JsonSerializerOptions Options = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = System.Text.Json.JsonNamingPolicy.SnakeCaseLower,
        Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter() },
    };
}
