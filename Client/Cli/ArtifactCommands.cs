using System.CommandLine;
using PoolAI.Artifacts;
using PoolAI.Jobs;

namespace PoolAI.Client.Cli;

/// <summary><c>poolai artifact get ID</c> and <c>poolai system TASK</c>: files jobs produced, and the pool's system tasks.</summary>
internal static class ArtifactCommands
{
    public static Command Artifact()
    {
        var id = new Argument<string>("id") { Description = "Artifact id: the 64 hex characters of its SHA-256, as a job lists it" };
        var output = new Option<string?>("--out", "-o") { Description = "File to write (default: the artifact's name in the current folder; '-' for standard output)" };
        var get = new Command("get", "Download an artifact a job produced") { id, output };
        get.SetAction(async (result, cancellationToken) => await CliRunner.RunAsync(async (connection, ct) =>
        {
            var artifact = await connection.Client.GetArtifactAsync(result.GetValue(id)!)
                ?? throw new KeyNotFoundException($"no artifact {result.GetValue(id)} is stored (never stored, or deleted after its job's retention)");
            var path = result.GetValue(output) ?? artifact.Name;
            if (path == "-")
            {
                await using var stdout = Console.OpenStandardOutput();
                await connection.Client.DownloadArtifactAsync(artifact, stdout, ct);
                return CliRunner.Ok;
            }

            var partial = path + ".part";
            await using (var file = File.Create(partial))
                await connection.Client.DownloadArtifactAsync(artifact, file, ct);
            File.Move(partial, path, overwrite: true);
            Console.Error.WriteLine($"{artifact.Id}: {artifact.Size} bytes ({artifact.MediaType}) written to {path}");
            return CliRunner.Ok;
        }, validate: _ => RequireId(result.GetValue(id)), cancellationToken));
        return new Command("artifact", "Files that jobs produced (images, checkpoints, reports)") { get };
    }

    public static Command System()
    {
        var task = new Argument<string>("task") { Description = $"The task: {string.Join(", ", SystemTasks.All)}" };
        var parameters = new Option<string[]>("--param", "-p") { Description = "A task parameter NAME=VALUE (repeatable), e.g. tokens=64 for probe", AllowMultipleArgumentsPerToken = false };
        var command = new Command("system", "Run a system task on a miner (probe: measure it and report as a JSON artifact; noop: nothing)") { task, parameters };
        command.SetAction(async (result, cancellationToken) =>
        {
            var values = new Dictionary<string, string>(StringComparer.Ordinal);
            return await CliRunner.RunAsync(async (connection, ct) =>
            {
                var submitted = await connection.Client.SubmitAsync(
                    JobSpec.SystemTask(result.GetValue(task)!, new SystemTaskInput(values.Count == 0 ? null : values), Environment.UserName));
                CliRunner.ReportSubmitted(submitted, connection.Description);
                var done = await connection.Client.WaitOrCancelAsync(submitted.Id, "interrupted at the terminal", ct);
                if (done.Status == JobStatus.Succeeded && done.Result?.Output is SystemTaskOutput output)
                {
                    Console.WriteLine(output.Summary.Length > 0 ? output.Summary : $"{done.Spec.Model}: done");
                    foreach (var artifact in output.Artifacts)
                        Console.WriteLine($"artifact {artifact.Id} {artifact.Name} ({artifact.Size} bytes, {artifact.MediaType}); poolai artifact get {artifact.Id}");
                }

                return CliRunner.ReportFinal(done, quiet: true, connection.Description);
            }, validate: _ =>
            {
                foreach (var pair in result.GetValue(parameters) ?? [])
                {
                    var equals = pair.IndexOf('=', StringComparison.Ordinal);
                    if (equals <= 0)
                        throw new JobValidationException("--param", $"must be NAME=VALUE; was '{pair}'");
                    values[pair[..equals]] = pair[(equals + 1)..];
                }
            }, cancellationToken);
        });
        return command;
    }

    private static void RequireId(string? id)
    {
        if (!ArtifactLimits.IsId(id?.Trim().ToLowerInvariant()))
            throw new JobValidationException("id", $"must be an artifact id: 64 hex characters (a SHA-256), as a job lists it; was '{id}'");
    }
}
