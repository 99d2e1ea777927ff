using System.Text;
using PoolAI.Auth;
using PoolAI.Tests.Cli;
using PoolAI.Tests.Gateway;
using PoolAI.Volumes;

namespace PoolAI.Tests.Volumes;

/// <summary>
/// <c>poolai volume mount</c> against a real gateway: the volume is a folder (rclone's FUSE mount of the gateway's
/// <c>/s3</c>). Inconclusive, saying why, where this machine cannot mount FUSE file systems or lacks rclone.
/// </summary>
[TestClass]
[DoNotParallelize]
public sealed class VolumeMountTests
{
    /// <summary>How long a file written through the folder may take to reach the volume, or one written by the SDK to show in the folder (rclone uploads 1 s after close and lists again after 5 s).</summary>
    private static readonly TimeSpan Propagation = TimeSpan.FromSeconds(30);

    [TestMethod]
    public async Task AMountedVolumeTakesFilesTheSdkReadsAndListsFilesTheSdkWrote()
    {
        RequireFuseAndRclone();
        await using var gateway = await GatewayFixture.StartAsync();
        var volume = $"mnt-{Guid.NewGuid():N}"[..16];
        await gateway.Pool.Volumes.CreateAsync(volume, new VolumeSpec("mirror:1", ShardBytes: 64 << 10));
        var key = await gateway.KeyAsync(ApiRoles.Developer);
        var folder = Directory.CreateTempSubdirectory("poolai-mount-").FullName;
        // mount and umount share one pool home: umount finds the mount's rclone config and cache there.
        var home = new Dictionary<string, string> { ["POOLAI_HOME"] = Path.Combine(Path.GetTempPath(), $"poolai-mount-home-{Guid.NewGuid():N}") };
        var weights = new byte[150_000];
        new Random(3).NextBytes(weights);

        var mount = await PoolaiProcess.RunAsync(home, "volume", "mount", volume, folder, "--gateway", gateway.BaseAddress.ToString(), "--key", key);
        if (mount.ExitCode != 0 && mount.StandardError.Contains("could not mount", StringComparison.Ordinal))
            Assert.Inconclusive($"rclone cannot mount a FUSE file system on this machine: {mount.StandardError.Trim()}");
        Assert.AreEqual(0, mount.ExitCode, mount.StandardError);
        try
        {
            Directory.CreateDirectory(Path.Combine(folder, "notes"));
            await File.WriteAllTextAsync(Path.Combine(folder, "notes", "hello.txt"), "written through the folder");
            await gateway.Pool.Volumes.WriteAsync(volume, "models/weights.bin", new MemoryStream(weights));

            var written = await EventuallyAsync(async () => await ReadAsync(gateway, volume, "notes/hello.txt"));
            var listed = await EventuallyAsync(() => Task.FromResult<string[]?>(Files(folder) is { Length: 2 } files ? files : null));

            Assert.AreEqual("written through the folder", Encoding.UTF8.GetString(written));
            CollectionAssert.AreEqual(new[] { "models/weights.bin", "notes/hello.txt" }, listed);
            CollectionAssert.AreEqual(weights, await File.ReadAllBytesAsync(Path.Combine(folder, "models", "weights.bin")));

            var twice = await PoolaiProcess.RunAsync(home, "volume", "mount", volume, folder, "--gateway", gateway.BaseAddress.ToString(), "--key", key);
            var missing = await PoolaiProcess.RunAsync(home, "volume", "mount", "no-such-volume", Directory.CreateTempSubdirectory("poolai-mount-").FullName, "--gateway", gateway.BaseAddress.ToString(), "--key", key);

            Assert.AreEqual((2, $"poolai: invalid dir: '{folder}' is already a mount point: unmount it first (poolai volume umount {folder})"), (twice.ExitCode, twice.StandardError.Trim()));
            Assert.AreEqual((2, $"poolai: invalid name: the gateway at {gateway.BaseAddress} has no volume 'no-such-volume' (create it with poolai volume create no-such-volume)"), (missing.ExitCode, missing.StandardError.Trim()));
            Assert.AreEqual(1, Directory.EnumerateFiles(Path.Combine(home["POOLAI_HOME"], "mounts"), "*.conf").Count(), "only the live mount keeps credentials on disk");
        }
        finally
        {
            var umount = await PoolaiProcess.RunAsync(home, "volume", "umount", folder);
            Assert.AreEqual((0, $"unmounted {folder}"), (umount.ExitCode, umount.StandardError.Trim()));
        }

        Assert.IsFalse(File.ReadAllText("/proc/mounts").Contains($" {folder} ", StringComparison.Ordinal), "the folder is still mounted");
        Assert.IsFalse(Directory.EnumerateFiles(Path.Combine(home["POOLAI_HOME"], "mounts"), "*.conf").Any(), "the mount's credentials outlived it");
    }

    [TestMethod]
    public async Task UnmountingAFolderThatIsNotMountedIsRefusedNamingTheFolder()
    {
        var folder = Directory.CreateTempSubdirectory("poolai-not-mounted-").FullName;
        if (!OperatingSystem.IsLinux())
            Assert.Inconclusive("umount checks /proc/mounts, which only Linux has");

        var umount = await PoolaiProcess.RunAsync("volume", "umount", folder);

        Assert.AreEqual((2, $"poolai: invalid dir: '{folder}' is not a mount point: nothing to unmount"), (umount.ExitCode, umount.StandardError.Trim()));
    }

    /// <summary>Skips the test (inconclusive) with the precise reason when this machine cannot run a FUSE mount of rclone.</summary>
    private static void RequireFuseAndRclone()
    {
        if (!OperatingSystem.IsLinux())
            Assert.Inconclusive($"FUSE mounts are tested on Linux only; this is {System.Runtime.InteropServices.RuntimeInformation.OSDescription}");
        if (!File.Exists("/dev/fuse"))
            Assert.Inconclusive("this machine has no /dev/fuse, so it cannot mount FUSE file systems (a container needs --device /dev/fuse --cap-add SYS_ADMIN)");
        if (OnPath("rclone") is null)
            Assert.Inconclusive("rclone is not installed (apt-get install -y rclone fuse3): 'poolai volume mount' mounts through it");
        if (OnPath("fusermount") is null && OnPath("fusermount3") is null)
            Assert.Inconclusive("fusermount is not installed (apt-get install -y fuse3): rclone mounts and 'poolai volume umount' unmounts through it");
    }

    private static string? OnPath(string tool) =>
        (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(folder => Path.Combine(folder, tool)).FirstOrDefault(File.Exists);

    /// <summary>Every file under <paramref name="folder"/>, relative, '/'-separated, in order.</summary>
    private static string[] Files(string folder) =>
        Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(folder, f).Replace(Path.DirectorySeparatorChar, '/'))
            .Order(StringComparer.Ordinal).ToArray();

    private static async Task<byte[]?> ReadAsync(GatewayFixture gateway, string volume, string path)
    {
        try
        {
            var bytes = new MemoryStream();
            await gateway.Pool.Volumes.ReadAsync(volume, path, bytes);
            return bytes.ToArray();
        }
        catch (VolumeNotFoundException)
        {
            return null;
        }
    }

    /// <summary>
    /// The first non-null answer of <paramref name="probe"/>, asked every 200 ms for at most <see cref="Propagation"/>:
    /// the mount is another process (rclone) with its own upload and listing delays, which no event here reports.
    /// </summary>
    private static async Task<T> EventuallyAsync<T>(Func<Task<T?>> probe)
        where T : class
    {
        var deadline = DateTime.UtcNow + Propagation;
        while (true)
        {
            if (await probe() is { } answer)
                return answer;
            Assert.IsTrue(DateTime.UtcNow < deadline, $"nothing within {Propagation.TotalSeconds:0} s");
            await Task.Delay(200);
        }
    }
}
