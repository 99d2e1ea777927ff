using System.CommandLine;
using PoolAI.Jobs;
using PoolAI.Kinds.DataProcessing;

namespace PoolAI.Client.Cli;

/// <summary>
/// <c>poolai sync push|pull VOLUME BUCKET --endpoint URL</c>: a <see cref="DataOperations.Sync"/> job that mirrors a
/// volume folder and an S3 bucket folder, run on one of the pool's trusted silos; waits for it and prints what it did.
/// The bucket's credentials are read from <c>AWS_ACCESS_KEY_ID</c> and <c>AWS_SECRET_ACCESS_KEY</c>, so the secret never
/// appears on a command line.
/// </summary>
internal static class SyncCommand
{
    /// <summary>How the rules' fields read on this command line.</summary>
    private static readonly Dictionary<string, string> Fields = new(StringComparer.Ordinal)
    {
        ["input.volume"] = "volume", ["input.bucket"] = "bucket", ["input.prefix"] = "--prefix", ["input.bucket_prefix"] = "--bucket-prefix",
        ["input.endpoint"] = "--endpoint", ["input.region"] = "--region", ["input.access_key_id"] = "AWS_ACCESS_KEY_ID",
        ["input.secret_access_key"] = "AWS_SECRET_ACCESS_KEY",
    };

    public static Command Create() => new("sync", "Mirror a volume folder and an S3-compatible bucket folder (a DataProcessing job on a trusted silo)")
    {
        Direction(SyncDirections.Push, "Copy a volume folder to a bucket folder: only what the bucket lacks or holds with other content"),
        Direction(SyncDirections.Pull, "Copy a bucket folder into a volume folder: only what the volume lacks or holds with other content"),
    };

    private static Command Direction(string direction, string description)
    {
        var volume = new Argument<string>("volume") { Description = "Volume name" };
        var bucket = new Argument<string>("bucket") { Description = "Bucket name (on another pool: a volume's name)" };
        var endpoint = new Option<string>("--endpoint") { Description = "The S3 service's URL, with its path if it has one (another pool: http://host:5080/s3)", Required = true };
        var prefix = new Option<string?>("--prefix") { Description = "The volume's folder (default: the whole volume)" };
        var bucketPrefix = new Option<string?>("--bucket-prefix") { Description = "The bucket's folder (default: the whole bucket)" };
        var delete = new Option<bool>("--delete") { Description = "Delete files of the target folder that the source folder lacks" };
        var region = new Option<string?>("--region") { Description = $"The region requests are signed for (default {DataProcessingInput.DefaultRegion})" };
        var command = new Command(direction, $"{description}. Credentials: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY") { volume, bucket, endpoint, prefix, bucketPrefix, delete, region };
        command.SetAction(async (result, cancellationToken) =>
        {
            var input = DataProcessingInput.Sync(direction, result.GetValue(volume)!, result.GetValue(prefix), result.GetValue(endpoint)!, result.GetValue(bucket)!,
                result.GetValue(bucketPrefix), Environment.GetEnvironmentVariable("AWS_ACCESS_KEY_ID") ?? string.Empty,
                Environment.GetEnvironmentVariable("AWS_SECRET_ACCESS_KEY") ?? string.Empty, result.GetValue(delete), result.GetValue(region));
            return await CliRunner.RunAsync(async (connection, ct) =>
            {
                var submitted = await connection.Client.SubmitAsync(JobSpec.DataProcessing(input, Environment.UserName));
                CliRunner.ReportSubmitted(submitted, connection.Description);
                var done = await connection.Client.WaitOrCancelAsync(submitted.Id, "interrupted at the terminal", ct);
                if (done.Status == JobStatus.Succeeded && done.Result?.Output is DataProcessingOutput output)
                {
                    Console.WriteLine(output.Summary);
                    foreach (var refused in output.Refused)
                        Console.WriteLine($"refused {refused}");
                }

                return CliRunner.ReportFinal(done, quiet: true, connection.Description);
            }, validate: _ =>
            {
                try
                {
                    DataProcessingRules.ValidateSync(input);
                }
                catch (JobValidationException ex) when (Fields.TryGetValue(ex.Field, out var field))
                {
                    throw new JobValidationException(field, ex.Rule);
                }
            }, cancellationToken);
        });
        return command;
    }
}
