using System.CommandLine;
using System.Globalization;
using PoolAI.Jobs;
using PoolAI.Silo.Miners;
using PoolAI.Volumes;
using Spectre.Console;

namespace PoolAI.Client.Cli;

/// <summary><c>poolai volume …</c>: storage volumes striped across the miners.</summary>
internal static class VolumeCommands
{
    public static Command Volume()
    {
        var command = new Command("volume", "Storage volumes: files erasure-coded or mirrored across the miners' disks");
        command.Subcommands.Add(Create());
        command.Subcommands.Add(List());
        command.Subcommands.Add(Put());
        command.Subcommands.Add(Get());
        command.Subcommands.Add(Ls());
        command.Subcommands.Add(Rm());
        command.Subcommands.Add(Status());
        command.Subcommands.Add(Scrub());
        VolumeMountCommand.AddTo(command);
        return command;
    }

    private static Argument<string> NameArgument() => new("name") { Description = "Volume name: 3–63 characters of a-z, 0-9 and '-'" };

    private static Command Create()
    {
        var name = NameArgument();
        var layout = new Option<string?>("--layout") { Description = "rs:K+M (Reed–Solomon: K data + M parity shards per stripe; rs:4+2 survives two lost miners) or mirror:N (N copies); default rs:4+2" };
        var quota = new Option<string?>("--quota") { Description = "Most bytes of files the volume holds, such as 10GiB (default: no quota)" };
        var encrypt = new Option<bool>("--encrypt") { Description = "Encrypt every shard with AES-256-GCM (shards on open miners always are)" };
        var quorum = new Option<int>("--write-quorum") { Description = "Shards of each stripe a write must store, K to K+M (default: all K+M); below that a write goes on with up to K+M minus this many miners down, and the rebuild restores the rest" };
        var create = new Command("create", "Create a volume") { name, layout, quota, encrypt, quorum };
        create.SetAction(async (result, cancellationToken) =>
        {
            long quotaBytes = 0;
            return await CliRunner.RunAsync(async (connection, _) =>
            {
                var view = await connection.Volumes.CreateAsync(result.GetValue(name)!, new VolumeSpec(result.GetValue(layout), quotaBytes, result.GetValue(encrypt), WriteQuorum: result.GetValue(quorum)));
                Console.WriteLine($"volume {view.Name}: {view.Layout} ({view.Layout.Overhead:0.##}× stored per byte), shards of {Size(view.ShardBytes)}, quota {(view.QuotaBytes == 0 ? "none" : Size(view.QuotaBytes))}, {(view.Encrypt ? "encrypted" : "not encrypted")}{(view.WriteQuorum > 0 ? $", write quorum {view.WriteQuorum} of {view.Layout.TotalShards} shards" : "")}");
                return CliRunner.Ok;
            }, validate: _ =>
            {
                VolumeNames.CheckName(result.GetValue(name), "name");
                VolumeLayout.Parse(result.GetValue(layout), "--layout");
                if (result.GetValue(quota) is { } text)
                    quotaBytes = StorageSize.Parse(text) ?? throw new JobValidationException("--quota", $"must be a size such as 10GiB, 500MB or a number of bytes; was '{text}'");
            }, cancellationToken);
        });
        return create;
    }

    private static Command List()
    {
        var json = new Option<bool>("--json") { Description = "Print as JSON" };
        var list = new Command("list", "List the pool's volumes") { json };
        list.SetAction(async (result, cancellationToken) => await CliRunner.RunAsync(async (connection, _) =>
        {
            var volumes = await connection.Volumes.ListVolumesAsync();
            if (result.GetValue(json))
            {
                Console.WriteLine(System.Text.Json.JsonSerializer.Serialize(volumes, JsonOutput.Options));
                return CliRunner.Ok;
            }

            var table = new Table().AddColumns("volume", "layout", "files", "used", "quota", "encrypted");
            foreach (var v in volumes)
                table.AddRow(v.Name, v.Layout.ToString(), v.Files.ToString(CultureInfo.InvariantCulture), Size(v.UsedBytes), v.QuotaBytes == 0 ? "-" : Size(v.QuotaBytes), v.Encrypt ? "yes" : "no");
            AnsiConsole.Write(table);
            return CliRunner.Ok;
        }, validate: null, cancellationToken));
        return list;
    }

    private static Command Put()
    {
        var name = NameArgument();
        var local = new Argument<string>("local") { Description = "A file, or a folder (copied with everything in it)" };
        var remote = new Argument<string?>("remote") { Description = "Path in the volume (default: the file's or folder's name)", Arity = ArgumentArity.ZeroOrOne };
        var put = new Command("put", "Copy a file or folder into a volume (streamed; each file appears whole or not at all)") { name, local, remote };
        put.SetAction(async (result, cancellationToken) => await CliRunner.RunAsync(async (connection, ct) =>
        {
            var source = Path.GetFullPath(result.GetValue(local)!);
            var target = result.GetValue(remote) is { Length: > 0 } r ? r.Trim('/') : Path.GetFileName(source.TrimEnd(Path.DirectorySeparatorChar));
            var files = Directory.Exists(source)
                ? Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal)
                    .Select(f => (Local: f, Remote: target + "/" + Path.GetRelativePath(source, f).Replace(Path.DirectorySeparatorChar, '/'))).ToList()
                : [(Local: source, Remote: target)];
            var volume = result.GetValue(name)!;
            var total = files.Sum(f => new FileInfo(f.Local).Length);
            var clock = System.Diagnostics.Stopwatch.StartNew();
            await Progress().StartAsync(async context =>
            {
                var bar = context.AddTask($"{volume}:{target}", maxValue: Math.Max(total, 1));
                foreach (var (file, path) in files)
                {
                    await using var input = File.OpenRead(file);
                    await connection.Volumes.WriteAsync(volume, path, input, new Progress<long>(n => bar.Increment(n)), ct);
                }

                bar.Value = bar.MaxValue;
            });
            Console.Error.WriteLine($"{files.Count} file{(files.Count == 1 ? "" : "s")}, {Size(total)} written to {volume}:{target} in {clock.Elapsed.TotalSeconds:0.0} s ({Rate(total, clock.Elapsed)})");
            return CliRunner.Ok;
        }, validate: _ =>
        {
            VolumeNames.CheckName(result.GetValue(name), "name");
            var source = result.GetValue(local)!;
            if (!File.Exists(source) && !Directory.Exists(source))
                throw new JobValidationException("local", $"'{source}' is neither a file nor a folder");
            if (result.GetValue(remote) is { Length: > 0 } r)
                VolumeNames.CheckPath(r, "remote");
        }, cancellationToken));
        return put;
    }

    private static Command Get()
    {
        var name = NameArgument();
        var remote = new Argument<string>("remote") { Description = "Path in the volume" };
        var local = new Argument<string>("local") { Description = "File or existing folder to write to ('-' for standard output)" };
        var force = new Option<bool>("--force") { Description = "Replace a file that already exists" };
        var get = new Command("get", "Copy a file out of a volume (streamed; checked shard by shard, and against its SHA-256)") { name, remote, local, force };
        get.SetAction(async (result, cancellationToken) => await CliRunner.RunAsync(async (connection, ct) =>
        {
            var volume = result.GetValue(name)!;
            var path = result.GetValue(remote)!;
            await using var read = await connection.Volumes.OpenReadAsync(volume, path);
            if (result.GetValue(local) == "-")
            {
                await using var stdout = Console.OpenStandardOutput();
                await read.CopyToAsync(stdout, 1 << 20, ct);
                return CliRunner.Ok;
            }

            var target = Directory.Exists(result.GetValue(local)) ? Path.Combine(result.GetValue(local)!, Path.GetFileName(path)) : result.GetValue(local)!;
            if (File.Exists(target) && !result.GetValue(force))
                throw new JobValidationException("local", $"'{target}' already exists; pass --force to replace it");
            var partial = target + ".part";
            var clock = System.Diagnostics.Stopwatch.StartNew();
            try
            {
                using var sha = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
                await Progress().StartAsync(async context =>
                {
                    var bar = context.AddTask($"{volume}:{path}", maxValue: Math.Max(read.File.Length, 1));
                    await using var file = File.Create(partial);
                    var buffer = new byte[1 << 20];
                    int n;
                    while ((n = await read.ReadAsync(buffer, ct)) > 0)
                    {
                        sha.AppendData(buffer, 0, n);
                        await file.WriteAsync(buffer.AsMemory(0, n), ct);
                        bar.Increment(n);
                    }

                    bar.Value = bar.MaxValue;
                });
                var hash = Convert.ToHexStringLower(sha.GetHashAndReset());
                if (read.File.Sha256.Length > 0 && hash != read.File.Sha256)
                    throw new IOException($"{volume}:{path}: SHA-256 of what was read is {hash}, the file's is {read.File.Sha256}");
                File.Move(partial, target, overwrite: true);
            }
            catch
            {
                File.Delete(partial);
                throw;
            }

            var repaired = read.Damage.Count > 0 ? $"; {read.Damage.Count} bad shard{(read.Damage.Count == 1 ? "" : "s")} read around and reported for repair" : "";
            Console.Error.WriteLine($"{Size(read.File.Length)} written to {target} in {clock.Elapsed.TotalSeconds:0.0} s ({Rate(read.File.Length, clock.Elapsed)}){repaired}");
            return CliRunner.Ok;
        }, validate: _ =>
        {
            VolumeNames.CheckName(result.GetValue(name), "name");
            VolumeNames.CheckPath(result.GetValue(remote), "remote");
        }, cancellationToken));
        return get;
    }

    private static Command Ls()
    {
        var name = NameArgument();
        var prefix = new Argument<string?>("prefix") { Description = "Only paths that start with it", Arity = ArgumentArity.ZeroOrOne };
        var json = new Option<bool>("--json") { Description = "Print as JSON" };
        var ls = new Command("ls", "List the files of a volume") { name, prefix, json };
        ls.SetAction(async (result, cancellationToken) => await CliRunner.RunAsync(async (connection, _) =>
        {
            var files = new List<VolumeFile>();
            string? after = null;
            do
            {
                var page = await connection.Volumes.Volume(result.GetValue(name)!).ListAsync(new ListRequest(result.GetValue(prefix) ?? "", StartAfter: after));
                files.AddRange(page.Files);
                after = page.NextStartAfter;
            }
            while (after is not null);
            if (result.GetValue(json))
            {
                Console.WriteLine(System.Text.Json.JsonSerializer.Serialize(files, JsonOutput.Options));
                return CliRunner.Ok;
            }

            foreach (var file in files)
                Console.WriteLine($"{file.Modified.UtcDateTime:yyyy-MM-dd HH:mm:ss}  {file.Length,14:N0}  {file.Path}");
            Console.Error.WriteLine($"{files.Count} file{(files.Count == 1 ? "" : "s")}, {Size(files.Sum(f => f.Length))}");
            return CliRunner.Ok;
        }, validate: _ => VolumeNames.CheckName(result.GetValue(name), "name"), cancellationToken));
        return ls;
    }

    private static Command Rm()
    {
        var name = NameArgument();
        var path = new Argument<string>("path") { Description = "Path in the volume" };
        var rm = new Command("rm", "Delete a file from a volume") { name, path };
        rm.SetAction(async (result, cancellationToken) => await CliRunner.RunAsync(async (connection, _) =>
        {
            if (!await connection.Volumes.Volume(result.GetValue(name)!).DeleteFileAsync(result.GetValue(path)!))
                throw new VolumeNotFoundException(result.GetValue(name)!, result.GetValue(path));
            Console.Error.WriteLine($"deleted {result.GetValue(name)}:{result.GetValue(path)}");
            return CliRunner.Ok;
        }, validate: _ =>
        {
            VolumeNames.CheckName(result.GetValue(name), "name");
            VolumeNames.CheckPath(result.GetValue(path), "path");
        }, cancellationToken));
        return rm;
    }

    private static Command Status()
    {
        var name = NameArgument();
        var json = new Option<bool>("--json") { Description = "Print as JSON" };
        var status = new Command("status", "A volume's health: stripes healthy, degraded and lost, bytes per store, rebuild and scrub") { name, json };
        status.SetAction(async (result, cancellationToken) => await CliRunner.RunAsync(async (connection, _) =>
        {
            var health = await connection.Volumes.Volume(result.GetValue(name)!).GetHealthAsync();
            if (result.GetValue(json))
            {
                Console.WriteLine(System.Text.Json.JsonSerializer.Serialize(health, JsonOutput.Options));
                return CliRunner.Ok;
            }

            var v = health.Volume;
            Console.WriteLine($"volume {v.Name}: {v.Layout}, {v.Files} files, {Size(v.UsedBytes)}{(v.QuotaBytes > 0 ? $" of {Size(v.QuotaBytes)}" : "")}, {(v.Encrypt ? "encrypted" : "not encrypted")}");
            Console.WriteLine($"stripes: {health.Stripes} — {health.Healthy} healthy, {health.Degraded} degraded, {health.Lost} lost");
            var table = new Table().AddColumns("store", "alive", "shards", "bytes");
            foreach (var s in health.Stores)
                table.AddRow(s.Store, s.Alive ? "yes" : "[red]no[/]", s.Shards.ToString(CultureInfo.InvariantCulture), Size(s.Bytes));
            AnsiConsole.Write(table);
            Describe("rebuild", health.Repair);
            Describe("scrub", health.Scrub);
            return health.Lost > 0 ? CliRunner.JobNotSucceeded : CliRunner.Ok;
        }, validate: _ => VolumeNames.CheckName(result.GetValue(name), "name"), cancellationToken));
        return status;
    }

    private static Command Scrub()
    {
        var name = NameArgument();
        var scrub = new Command("scrub", "Re-read every shard of a volume now, and rewrite the bad ones") { name };
        scrub.SetAction(async (result, cancellationToken) => await CliRunner.RunAsync(async (connection, ct) =>
        {
            var volume = connection.Volumes.Volume(result.GetValue(name)!);
            var before = (await volume.GetHealthAsync()).Scrub?.Started;
            await volume.ScrubAsync();
            MaintenanceProgress? progress;
            while ((progress = (await volume.GetHealthAsync()).Scrub) is null || progress.Started == before || progress.Running)
                await Task.Delay(500, ct);
            Describe("scrub", progress);
            return progress.Problems.Any(p => p.Contains("cannot", StringComparison.Ordinal)) ? CliRunner.JobNotSucceeded : CliRunner.Ok;
        }, validate: _ => VolumeNames.CheckName(result.GetValue(name), "name"), cancellationToken));
        return scrub;
    }

    private static void Describe(string what, MaintenanceProgress? run)
    {
        if (run is null)
            return;
        var runs = run.Runs > 1 ? $" (in {run.Runs} runs since {run.Started.UtcDateTime:HH:mm:ss})" : "";
        var state = run.Running ? $"running{runs}, {run.StripesDone}/{run.StripesTotal} stripes, ETA {run.Eta?.UtcDateTime:HH:mm:ss}"
            : run.WorkLeft ? $"waiting with work left{runs} (too few live stores, or it stopped; see below), {run.StripesDone}/{run.StripesTotal} stripes"
            : $"finished {run.Finished?.UtcDateTime:yyyy-MM-dd HH:mm:ss}{runs}, {run.StripesDone} stripes";
        Console.WriteLine($"{what}: {state}, {run.ShardsRewritten} shards rewritten, {Size(run.Bytes)} at {Size((long)run.BytesPerSecond)}/s");
        foreach (var problem in run.Problems)
            Console.WriteLine($"  {problem}");
    }

    private static Spectre.Console.Progress Progress() => AnsiConsole.Progress().AutoClear(false).HideCompleted(false)
        .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new TransferSpeedColumn(), new RemainingTimeColumn());

    private static string Rate(long bytes, TimeSpan elapsed) => $"{Size((long)(bytes / Math.Max(elapsed.TotalSeconds, 1e-3)))}/s";

    /// <summary>Bytes as people read them: 1.5 MiB.</summary>
    public static string Size(long bytes) => bytes switch
    {
        < 1 << 10 => $"{bytes} B",
        < 1 << 20 => $"{bytes / 1024.0:0.#} KiB",
        < 1 << 30 => $"{bytes / 1048576.0:0.#} MiB",
        _ => $"{bytes / 1073741824.0:0.##} GiB",
    };
}
