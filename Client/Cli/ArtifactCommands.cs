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
        var output = new Option<string?>("--out", "-o") { Description = "File or existing folder to write to (default: the artifact's name in the current folder; '-' for standard output)" };
        var force = new Option<bool>("--force") { Description = "Replace a file that already exists" };
        var get = new Command("get", "Download an artifact a job produced") { id, output, force };
        get.SetAction(async (result, cancellationToken) => await CliRunner.RunAsync(async (connection, ct) =>
        {
            var artifact = await connection.Client.GetArtifactAsync(result.GetValue(id)!)
                ?? throw new KeyNotFoundException($"no artifact {result.GetValue(id)} is stored (never stored, or deleted after its job's retention)");
            if (result.GetValue(output) == "-")
            {
                await using var stdout = Console.OpenStandardOutput();
                await connection.Client.DownloadArtifactAsync(artifact, stdout, ct);
                return CliRunner.Ok;
            }

            var path = Target(result.GetValue(output), artifact.Name, result.GetValue(force));
            // Written beside the target and renamed when whole: an interrupted download leaves no half file under its name.
            var partial = path + ".part";
            try
            {
                await using (var file = File.Create(partial))
                    await connection.Client.DownloadArtifactAsync(artifact, file, ct);
                File.Move(partial, path, overwrite: true);
            }
            catch
            {
                File.Delete(partial);
                throw;
            }

            Console.Error.WriteLine($"{artifact.Id}: {artifact.Size} bytes ({artifact.MediaType}) written to {path}");
            return CliRunner.Ok;
        }, validate: _ =>
        {
            RequireId(result.GetValue(id));
            if (result.GetValue(output) is { Length: > 0 } path && path != "-" && !Directory.Exists(path))
                RequireFolder(Path.GetDirectoryName(Path.GetFullPath(path)));
        }, cancellationToken));
        return new Command("artifact", "Files that jobs produced (images, checkpoints, reports)") { get };
    }

    public static Command System()
    {
        var task = new Argument<string>("task") { Description = $"The task: {string.Join(", ", SystemTasks.All)}" };
        var parameters = new Option<string[]>("--param", "-p") { Description = "A task parameter NAME=VALUE (repeatable): tokens=64 for probe; worker=ID [wait=SECONDS] for migrate; volume=V path=MODEL/FILE and model=MODEL or to=all for mirror", AllowMultipleArgumentsPerToken = false };
        var command = new Command("system", "Run a system task on a miner (probe: measure it and report as a JSON artifact; migrate: empty a silo's store and put it in maintenance; mirror: copy a volume file into miners' models directories; noop: nothing)") { task, parameters };
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

    /// <summary>
    /// Where <c>artifact get</c> writes: <paramref name="output"/> as a file, or the artifact's own name inside
    /// <paramref name="output"/> when that is a folder (or inside the current folder without it).
    /// </summary>
    /// <exception cref="JobValidationException">The file exists and <paramref name="force"/> is false.</exception>
    private static string Target(string? output, string artifactName, bool force)
    {
        var path = output is not { Length: > 0 } ? Path.GetFileName(artifactName)
            : Directory.Exists(output) ? Path.Combine(output, Path.GetFileName(artifactName))
            : output;
        if (File.Exists(path) && !force)
            throw new JobValidationException("--out", $"'{path}' already exists; pass --force to replace it, or name another file with --out");
        return path;
    }

    private static void RequireFolder(string? folder)
    {
        if (folder is { Length: > 0 } && !Directory.Exists(folder))
            throw new JobValidationException("--out", $"folder '{folder}' does not exist");
    }

    private static void RequireId(string? id)
    {
        if (!ArtifactLimits.IsId(id?.Trim().ToLowerInvariant()))
            throw new JobValidationException("id", $"must be an artifact id: 64 hex characters (a SHA-256), as a job lists it; was '{id}'");
    }
}
