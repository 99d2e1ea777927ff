using System.CommandLine;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using PoolAI.Jobs;
using PoolAI.Silo.Hosting;
using PoolAI.Volumes;

namespace PoolAI.Client.Cli;

/// <summary>
/// <c>poolai volume mount NAME DIR</c> and <c>poolai volume umount DIR</c>: a volume as a folder, through the gateway's
/// S3 API (<c>/s3</c>) and rclone's FUSE mount. The key's S3 credentials come from <c>GET /api/s3/credentials</c> and
/// are written to an rclone config of the mount's own under <c>$POOLAI_HOME/mounts</c> (mode 600), deleted again by
/// <c>umount</c>. rclone is the client because the gateway's S3 endpoint has a path (<c>/s3</c>): rclone's <c>s3</c>
/// backend signs requests below an endpoint's path, while s3fs (1.90) sends them there but signs them without it, which
/// the gateway refuses (SignatureDoesNotMatch). Linux and macOS (FUSE, or macFUSE).
/// </summary>
internal static class VolumeMountCommand
{
    /// <summary>The gateway's URL when neither <c>--gateway</c>, <c>POOLAI_GATEWAY</c> nor <see cref="GatewayKey"/> says one: the gateway's own default (<c>Urls</c> in its appsettings).</summary>
    public const string DefaultGateway = "http://127.0.0.1:5080";

    /// <summary>Configuration key of the gateway's URL (<c>POOLAI__Client__GatewayUrl</c>, or <c>poolai.json</c>).</summary>
    public const string GatewayKey = "PoolAI:Client:GatewayUrl";

    /// <summary>Longest wait of <c>umount</c> for files written through the folder to finish uploading.</summary>
    private static readonly TimeSpan UploadWait = TimeSpan.FromMinutes(10);

    /// <summary>Name of the rclone remote in a mount's config.</summary>
    private const string Remote = "poolai";

    private const string InstallRclone = "install rclone (Debian and Ubuntu: apt-get install -y rclone fuse3; elsewhere: https://rclone.org/install/)";

    /// <summary>Adds <c>mount</c> and <c>umount</c> to <paramref name="volume"/> (<c>poolai volume</c>).</summary>
    public static void AddTo(Command volume)
    {
        volume.Subcommands.Add(Mount());
        volume.Subcommands.Add(Umount());
    }

    private static Command Mount()
    {
        var name = new Argument<string>("name") { Description = "Volume name" };
        var dir = new Argument<string>("dir") { Description = "An existing folder to mount it on" };
        var gateway = new Option<string?>("--gateway") { Description = $"The gateway's URL (default: POOLAI_GATEWAY, else {GatewayKey}, else {DefaultGateway})" };
        var key = new Option<string?>("--key") { Description = "A developer or admin API key, pai_… (default: POOLAI_KEY)" };
        var readOnly = new Option<bool>("--read-only") { Description = "Mount read-only" };
        var foreground = new Option<bool>("--foreground") { Description = "Stay in the foreground until the folder is unmounted or Ctrl+C (default: mount in the background and return)" };
        var mount = new Command("mount", "Mount a volume as a folder through the gateway's S3 API (needs rclone and FUSE)") { name, dir, gateway, key, readOnly, foreground };
        mount.SetAction((result, cancellationToken) => RunAsync(() => MountAsync(
            result.GetValue(name)!, result.GetValue(dir)!, result.GetValue(gateway), result.GetValue(key), result.GetValue(readOnly), result.GetValue(foreground), cancellationToken)));
        return mount;
    }

    private static Command Umount()
    {
        var dir = new Argument<string>("dir") { Description = "The folder a volume is mounted on" };
        var umount = new Command("umount", "Unmount a volume mounted with 'poolai volume mount' (fusermount -u)") { dir };
        umount.SetAction((result, cancellationToken) => RunAsync(() => UmountAsync(result.GetValue(dir)!, cancellationToken)));
        return umount;
    }

    private static async Task<int> MountAsync(string volume, string dir, string? gatewayOption, string? keyOption, bool readOnly, bool foreground, CancellationToken cancellationToken)
    {
        VolumeNames.CheckName(volume, "name");
        var folder = Path.GetFullPath(dir);
        if (!Directory.Exists(folder))
            throw new JobValidationException("dir", $"'{dir}' is not a folder: create it first");
        if (OperatingSystem.IsLinux() && IsMountPoint(folder.TrimEnd(Path.DirectorySeparatorChar)))
            throw new JobValidationException("dir", $"'{folder}' is already a mount point: unmount it first (poolai volume umount {folder})");
        var gateway = Gateway(gatewayOption);
        var key = keyOption ?? Environment.GetEnvironmentVariable("POOLAI_KEY");
        if (string.IsNullOrEmpty(key))
            throw new JobValidationException("--key", "is required: pass --key pai_… or set POOLAI_KEY (a developer or admin key)");
        if (!key.StartsWith("pai_", StringComparison.Ordinal))
            throw new JobValidationException("--key", "must be an API key, pai_…");
        if (OperatingSystem.IsLinux() && !File.Exists("/dev/fuse"))
            throw new MountException("this machine has no /dev/fuse, so nothing can be mounted with FUSE (in a container: run it with --device /dev/fuse --cap-add SYS_ADMIN)", CliRunner.BadInput);
        var rclone = OnPath("rclone") ?? throw new MountException(OnPath("s3fs") is null
            ? $"mounting needs rclone, which is not installed: {InstallRclone}"
            : $"mounting needs rclone, which is not installed; s3fs is, but it cannot use the gateway's endpoint (s3fs signs requests without the endpoint's path, /s3, and the gateway refuses them): {InstallRclone}", CliRunner.BadInput);

        var credentials = await CredentialsAsync(gateway, key, cancellationToken);
        var mounts = Path.Combine(PoolHome.Directory, "mounts");
        PoolHome.CreateFolder(mounts);
        var config = ConfigPath(folder);
        PoolHome.CreateOwnerOnlyFile(config);
        await File.WriteAllTextAsync(config, RcloneConfig(credentials), cancellationToken);
        var mounted = false;
        try
        {
            var code = await MountWithAsync(rclone, config, volume, folder, gateway, credentials, readOnly, foreground, cancellationToken);
            mounted = code == CliRunner.Ok && !foreground;
            return code;
        }
        finally
        {
            // The credentials stay on disk only while the mount they serve lives (a foreground mount has ended here).
            if (!mounted)
                File.Delete(config);
            if (!mounted && DirtyFiles(CachePath(folder)) == 0 && Directory.Exists(CachePath(folder)))
                Directory.Delete(CachePath(folder), recursive: true);
        }
    }

    private static async Task<int> MountWithAsync(
        string rclone, string config, string volume, string folder, Uri gateway, S3Credentials credentials, bool readOnly, bool foreground, CancellationToken cancellationToken)
    {
        // The same config the mount uses lists the volumes: it proves endpoint and credentials, and that the volume exists.
        var (listed, volumes, listError) = await RunToolAsync(rclone, ["--config", config, "lsf", "--dirs-only", "--retries", "1", "--low-level-retries", "2", $"{Remote}:", .. CaCertificate()], cancellationToken);
        if (listed != 0)
            throw new MountException($"rclone cannot list the gateway's volumes at {credentials.Endpoint}: {listError.Trim()}", CliRunner.PoolUnavailable);
        if (!volumes.Split('\n').Contains(volume + "/", StringComparer.Ordinal))
            throw new JobValidationException("name", $"the gateway at {gateway} has no volume '{volume}' (create it with poolai volume create {volume})");

        var log = Path.ChangeExtension(config, ".log");
        List<string> args =
        [
            "--config", config, "mount", $"{Remote}:{volume}", folder,
            // Writes go through a cache of the mount's own, so programs may seek and rewrite; a closed file is uploaded a
            // second later (umount waits for it).
            "--vfs-cache-mode", "writes", "--vfs-write-back", "1s", "--cache-dir", CachePath(folder),
            // Files written elsewhere (the SDK, S3 clients) appear within seconds.
            "--dir-cache-time", "5s",
        ];
        if (readOnly)
            args.Add("--read-only");
        args.AddRange(CaCertificate());

        var mode = readOnly ? "read-only" : "read-write";
        if (foreground)
        {
            Console.Error.WriteLine($"volume {volume} mounted on {folder} ({mode}, rclone through {credentials.Endpoint}); Ctrl+C or 'poolai volume umount {folder}' unmounts it");
            return await RunForegroundAsync(rclone, args, cancellationToken);
        }

        // rclone's daemon returns once the mount is ready (or failed). The daemon keeps the standard streams it was
        // started with for as long as the mount lives, so they are /dev/null and its log, never this process's pipes.
        File.Delete(log);
        args.AddRange(["--daemon", "--log-file", log]);
        var start = Start("/bin/sh", ["-c", "exec \"$0\" \"$@\" </dev/null >/dev/null 2>>\"$POOLAI_MOUNT_LOG\"", rclone, .. args], redirect: false);
        start.Environment["POOLAI_MOUNT_LOG"] = log;
        using (var daemon = Process.Start(start)!)
        {
            await daemon.WaitForExitAsync(cancellationToken);
            if (daemon.ExitCode != 0)
                throw new MountException($"rclone could not mount {volume} on {folder} (exit {daemon.ExitCode}){LogTail(log)}", CliRunner.JobNotSucceeded);
        }

        Console.Error.WriteLine($"volume {volume} mounted on {folder} ({mode}, rclone through {credentials.Endpoint}; log {log}); unmount with: poolai volume umount {folder}");
        return CliRunner.Ok;
    }

    private static async Task<int> UmountAsync(string dir, CancellationToken cancellationToken)
    {
        var folder = Path.GetFullPath(dir).TrimEnd(Path.DirectorySeparatorChar);
        if (OperatingSystem.IsLinux() && !IsMountPoint(folder))
            throw new JobValidationException("dir", $"'{folder}' is not a mount point: nothing to unmount");
        var (tool, args) = OperatingSystem.IsMacOS() ? ("umount", new[] { folder })
            : OnPath("fusermount") is { } fusermount ? (fusermount, ["-u", folder])
            : OnPath("fusermount3") is { } fusermount3 ? (fusermount3, ["-u", folder])
            : throw new MountException($"unmounting needs fusermount, which is not installed (Debian and Ubuntu: apt-get install -y fuse3)", CliRunner.BadInput);
        await UploadedAsync(folder, cancellationToken);
        var (code, _, error) = await RunToolAsync(tool, args, cancellationToken);
        if (code != 0)
            throw new MountException($"{Path.GetFileName(tool)} could not unmount {folder} (exit {code}): {error.Trim()}", CliRunner.JobNotSucceeded);
        // Neither the credentials nor the cached copies are needed once the mount is gone and everything is uploaded.
        File.Delete(ConfigPath(folder));
        if (Directory.Exists(CachePath(folder)))
            Directory.Delete(CachePath(folder), recursive: true);
        Console.Error.WriteLine($"unmounted {folder}");
        return CliRunner.Ok;
    }

    /// <summary>
    /// Waits until rclone has uploaded every file written through <paramref name="folder"/> (none of its cache's entries
    /// is marked dirty), at most <see cref="UploadWait"/>: unmounting first would leave them in the cache until the next mount.
    /// </summary>
    /// <exception cref="MountException">Files are still not uploaded after <see cref="UploadWait"/>; the folder stays mounted.</exception>
    private static async Task UploadedAsync(string folder, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + UploadWait;
        var said = false;
        for (var dirty = DirtyFiles(CachePath(folder)); dirty > 0; dirty = DirtyFiles(CachePath(folder)))
        {
            if (DateTime.UtcNow > deadline)
                throw new MountException($"{dirty} file(s) written through {folder} are still not uploaded after {UploadWait.TotalMinutes:0} minutes (is the gateway reachable? see {Path.ChangeExtension(ConfigPath(folder), ".log")}); the folder stays mounted: try again later", CliRunner.PoolUnavailable);
            if (!said)
                Console.Error.WriteLine($"waiting for {dirty} file(s) written through {folder} to finish uploading…");
            said = true;
            await Task.Delay(500, cancellationToken);
        }
    }

    /// <summary>The entries of rclone's VFS cache (<c>vfsMeta</c>, one JSON file per cached file) marked <c>"Dirty": true</c>: written, not yet uploaded.</summary>
    private static int DirtyFiles(string cache)
    {
        var meta = Path.Combine(cache, "vfsMeta");
        if (!Directory.Exists(meta))
            return 0;
        var dirty = 0;
        foreach (var file in Directory.EnumerateFiles(meta, "*", SearchOption.AllDirectories))
        {
            try
            {
                using var json = JsonDocument.Parse(File.ReadAllText(file));
                if (json.RootElement.TryGetProperty("Dirty", out var flag) && flag.ValueKind == JsonValueKind.True)
                    dirty++;
            }
            catch (Exception ex) when (ex is IOException or JsonException)
            {
                // Being rewritten or removed by rclone right now: the next look sees it.
            }
        }

        return dirty;
    }

    /// <summary>The gateway's URL: <paramref name="option"/>, <c>POOLAI_GATEWAY</c>, <see cref="GatewayKey"/> or <see cref="DefaultGateway"/>.</summary>
    /// <exception cref="JobValidationException">Field <c>--gateway</c>: not an absolute http or https URL.</exception>
    private static Uri Gateway(string? option)
    {
        var text = option
            ?? (Environment.GetEnvironmentVariable("POOLAI_GATEWAY") is { Length: > 0 } variable ? variable : null)
            ?? (CliConfiguration.Load()[GatewayKey] is { Length: > 0 } configured ? configured : null)
            ?? DefaultGateway;
        return Uri.TryCreate(text, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"
            ? uri
            : throw new JobValidationException("--gateway", $"must be the gateway's absolute http or https URL, such as {DefaultGateway}; was '{text}'");
    }

    private static async Task<S3Credentials> CredentialsAsync(Uri gateway, string key, CancellationToken cancellationToken)
    {
        using var http = new HttpClient { BaseAddress = gateway, Timeout = TimeSpan.FromSeconds(30) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        using var response = await http.GetAsync("api/s3/credentials", cancellationToken);
        return response.StatusCode switch
        {
            HttpStatusCode.OK => await response.Content.ReadFromJsonAsync<S3Credentials>(cancellationToken)
                ?? throw new MountException($"the gateway at {gateway} answered /api/s3/credentials with nothing", CliRunner.PoolUnavailable),
            HttpStatusCode.Unauthorized => throw new JobValidationException("--key", $"the gateway at {gateway} does not accept the key (401): it is mistyped, revoked or of another pool"),
            HttpStatusCode.Forbidden => throw new JobValidationException("--key", $"the gateway at {gateway} gives this key no S3 credentials (403): mounting needs a developer or admin key"),
            HttpStatusCode.NotFound => throw new JobValidationException("--gateway", $"{gateway} has no /api/s3/credentials (404): is it a PoolAI gateway?"),
            var status => throw new MountException($"the gateway at {gateway} answered /api/s3/credentials with {(int)status} {status}", CliRunner.PoolUnavailable),
        };
    }

    /// <summary>The rclone config of one mount: the gateway's <c>/s3</c> as an S3 remote, path-style.</summary>
    private static string RcloneConfig(S3Credentials credentials) => $"""
        [{Remote}]
        type = s3
        provider = Other
        access_key_id = {credentials.AccessKeyId}
        secret_access_key = {credentials.SecretAccessKey}
        endpoint = {credentials.Endpoint}
        region = {credentials.Region}
        force_path_style = true
        no_check_bucket = true

        """;

    /// <summary>rclone's cache of one mount, <c>$POOLAI_HOME/mounts/HASH.cache</c> (one per mount: two rclones must not share one).</summary>
    private static string CachePath(string folder) => Path.ChangeExtension(ConfigPath(folder), ".cache");

    /// <summary><c>$POOLAI_HOME/mounts/HASH.conf</c>, HASH naming the mount folder, so <c>umount</c> finds it from the folder alone.</summary>
    private static string ConfigPath(string folder) =>
        Path.Combine(PoolHome.Directory, "mounts", Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(folder.TrimEnd(Path.DirectorySeparatorChar))))[..16] + ".conf");

    private static async Task<(int Code, string Output, string Error)> RunToolAsync(string tool, IEnumerable<string> args, CancellationToken cancellationToken)
    {
        using var process = Process.Start(Start(tool, args, redirect: true))!;
        var output = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var error = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        return (process.ExitCode, await output, await error);
    }

    private static async Task<int> RunForegroundAsync(string rclone, IEnumerable<string> args, CancellationToken cancellationToken)
    {
        using var process = Process.Start(Start(rclone, args, redirect: false))!;
        try
        {
            await process.WaitForExitAsync(cancellationToken);
            return process.ExitCode == 0 ? CliRunner.Ok : CliRunner.JobNotSucceeded;
        }
        catch (OperationCanceledException)
        {
            // Ctrl+C reached rclone too (same process group); a SIGTERM to this process did not: pass it on as SIGINT,
            // on which rclone unmounts.
            using (var interrupt = Process.Start("kill", ["-INT", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
                await interrupt.WaitForExitAsync(CancellationToken.None);
            await process.WaitForExitAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(15), CancellationToken.None);
            return CliRunner.Interrupted;
        }
    }

    private static ProcessStartInfo Start(string tool, IEnumerable<string> args, bool redirect)
    {
        var start = new ProcessStartInfo(tool) { UseShellExecute = false, RedirectStandardOutput = redirect, RedirectStandardError = redirect };
        foreach (var arg in args)
            start.ArgumentList.Add(arg);
        start.Environment.Remove("AWS_CA_BUNDLE"); // see the mount's --ca-cert
        return start;
    }

    /// <summary>rclone's s3 backend refuses <c>AWS_CA_BUNDLE</c> ("unsupported transport"), which is taken from its environment; its own flag takes the same file.</summary>
    private static string[] CaCertificate() =>
        Environment.GetEnvironmentVariable("AWS_CA_BUNDLE") is { Length: > 0 } bundle ? ["--ca-cert", bundle] : [];

    private static string LogTail(string log) =>
        File.Exists(log) && File.ReadAllLines(log).TakeLast(5).ToList() is { Count: > 0 } lines ? $"; its log ({log}) ends: {string.Join(" | ", lines)}" : string.Empty;

    private static bool IsMountPoint(string folder) =>
        File.ReadLines("/proc/mounts").Select(line => line.Split(' ')).Any(fields => fields.Length > 1 && Unescape(fields[1]) == folder);

    // /proc/mounts writes a space, tab, newline and backslash in a path as octal escapes.
    private static string Unescape(string field) =>
        field.Replace("\\040", " ", StringComparison.Ordinal).Replace("\\011", "\t", StringComparison.Ordinal).Replace("\\012", "\n", StringComparison.Ordinal).Replace("\\134", "\\", StringComparison.Ordinal);

    private static string? OnPath(string tool) =>
        (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(folder => Path.Combine(folder, tool)).FirstOrDefault(File.Exists);

    private static async Task<int> RunAsync(Func<Task<int>> body)
    {
        try
        {
            return await body();
        }
        catch (JobValidationException ex)
        {
            Console.Error.WriteLine($"poolai: invalid {ex.Field}: {ex.Rule}");
            return CliRunner.BadInput;
        }
        catch (MountException ex)
        {
            Console.Error.WriteLine($"poolai: {ex.Message}");
            return ex.ExitCode;
        }
        catch (HttpRequestException ex)
        {
            Console.Error.WriteLine($"poolai: the gateway cannot be reached ({ex.Message})");
            return CliRunner.PoolUnavailable;
        }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine("poolai: interrupted");
            return CliRunner.Interrupted;
        }
    }

    /// <summary>What <c>GET /api/s3/credentials</c> answers.</summary>
    private sealed record S3Credentials(
        [property: JsonPropertyName("access_key_id")] string AccessKeyId,
        [property: JsonPropertyName("secret_access_key")] string SecretAccessKey,
        [property: JsonPropertyName("endpoint")] string Endpoint,
        [property: JsonPropertyName("region")] string Region);

    /// <summary>A mount or unmount that could not be done, with the exit code that says why.</summary>
    private sealed class MountException(string message, int exitCode) : Exception(message)
    {
        public int ExitCode { get; } = exitCode;
    }
}
