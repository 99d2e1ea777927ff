using System.Reflection;
using TorchSharp;

namespace PoolAI.Libraries;

/// <summary>
/// The library manager's first duty: make sure TorchSharp's native library loads in this process
/// before the first tensor is made. Call <see cref="EnsureLoaded"/> at process start (silo, CLI,
/// tests, benchmarks); it inspects the host, repairs the known libstdc++ incompatibility on the copy
/// in the application's folder if needed (<see cref="LibStdCxxRepair"/>), loads libtorch and runs a
/// tensor operation. On a host that needs no repair it changes nothing. Thread-safe; the work is
/// done once per process.
/// </summary>
public static class TorchLibraries
{
    private static readonly Lazy<LibraryReport> Loaded = new(LoadCore, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>Loads TorchSharp once, repairing first when needed, and returns what was found.</summary>
    /// <exception cref="LibraryRepairException">Torch could not be loaded; the message says why and what to install.</exception>
    public static LibraryReport EnsureLoaded()
    {
        var report = Loaded.Value;
        if (!report.IsOk)
            throw new LibraryRepairException("TorchSharp's native library did not load: " + string.Join("; ", report.Notes));
        return report;
    }

    /// <summary>Same as <see cref="EnsureLoaded"/> but returns a failed report instead of throwing.</summary>
    public static LibraryReport Inspect() => Loaded.Value;

    /// <summary>Folders where the application's copy of <c>libLibTorchSharp.so</c> may be, most likely first.</summary>
    public static IEnumerable<string> CandidateLibTorchSharpPaths()
    {
        var rid = System.Runtime.InteropServices.RuntimeInformation.RuntimeIdentifier.StartsWith("linux-arm64", StringComparison.Ordinal) ? "linux-arm64" : "linux-x64";
        var roots = new[] { AppContext.BaseDirectory, Path.GetDirectoryName(typeof(torch).Assembly.Location) ?? AppContext.BaseDirectory }.Distinct();
        foreach (var root in roots)
        {
            yield return Path.Combine(root, "runtimes", rid, "native", "libLibTorchSharp.so");
            yield return Path.Combine(root, "libLibTorchSharp.so");
        }
    }

    /// <summary>
    /// The libstdc++ this process already uses: the .NET runtime itself links it, so
    /// <c>/proc/self/maps</c> names the exact file the dynamic linker picked.
    /// </summary>
    public static string? FindProcessLibStdCxx()
    {
        const string maps = "/proc/self/maps";
        if (File.Exists(maps))
        {
            foreach (var line in File.ReadLines(maps))
            {
                var at = line.IndexOf('/', StringComparison.Ordinal);
                if (at >= 0 && line.Contains("libstdc++.so", StringComparison.Ordinal))
                    return line[at..].Trim();
            }
        }

        return new[] { "/lib/x86_64-linux-gnu/libstdc++.so.6", "/usr/lib/x86_64-linux-gnu/libstdc++.so.6", "/usr/lib64/libstdc++.so.6", "/lib/aarch64-linux-gnu/libstdc++.so.6" }
            .FirstOrDefault(File.Exists);
    }

    /// <summary>The highest <c>GLIBCXX_a.b.c</c> among <paramref name="versions"/>, or null.</summary>
    public static string? HighestGlibcxx(IEnumerable<string> versions) =>
        versions.Where(v => v.StartsWith("GLIBCXX_", StringComparison.Ordinal))
            .Select(v => (Name: v, Ok: Version.TryParse(v["GLIBCXX_".Length..], out var parsed), Parsed: parsed))
            .Where(v => v.Ok)
            .OrderByDescending(v => v.Parsed)
            .Select(v => v.Name)
            .FirstOrDefault();

    private static LibraryReport LoadCore()
    {
        var torchSharpVersion = typeof(torch).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
            ?? typeof(torch).Assembly.GetName().Version?.ToString() ?? "unknown";
        var notes = new List<string>();
        var repairs = new List<string>();
        string? libPath = null, stdcxxPath = null, hostLevel = null, requiredLevel = null;

        if (OperatingSystem.IsLinux())
        {
            libPath = CandidateLibTorchSharpPaths().FirstOrDefault(File.Exists);
            stdcxxPath = FindProcessLibStdCxx();
            if (libPath is null)
            {
                notes.Add("libLibTorchSharp.so not found beside the application; TorchSharp will search its own paths");
            }
            else if (stdcxxPath is null)
            {
                notes.Add("no libstdc++ found in this process or the usual folders; nothing to compare against");
            }
            else
            {
                try
                {
                    var host = ElfImage.Load(stdcxxPath).DefinedVersions.ToHashSet(StringComparer.Ordinal);
                    hostLevel = HighestGlibcxx(host);
                    var image = ElfImage.Load(libPath);
                    requiredLevel = HighestGlibcxx(image.NeededVersions.Select(v => v.Name));
                    var weakened = image.NeededVersions.Where(v => v.IsWeak && v.File.StartsWith("libstdc++", StringComparison.Ordinal)).Select(v => v.Name).ToList();
                    if (weakened.Count > 0)
                        notes.Add($"already repaired: {string.Join(", ", weakened)} marked weak");
                    repairs.AddRange(LibStdCxxRepair.Apply(libPath, host));
                }
                catch (Exception ex) when (ex is LibraryRepairException or IOException or UnauthorizedAccessException or InvalidDataException)
                {
                    notes.Add(ex.Message);
                }
            }
        }

        try
        {
            torch.InitializeDeviceType(DeviceType.CPU);
            using var a = torch.arange(4, dtype: torch.float32).reshape(2, 2);
            using var product = a.matmul(a);
            var check = product.sum().item<float>();
            if (Math.Abs(check - 22f) > 1e-4)
                throw new InvalidOperationException($"a 2x2 matmul gave {check}, expected 22");
            return new LibraryReport("ok", torchSharpVersion, torch.__version__, libPath is null ? null : Path.GetDirectoryName(libPath),
                libPath, stdcxxPath, hostLevel, requiredLevel, torch.get_num_threads(), repairs, notes);
        }
        catch (Exception ex)
        {
            notes.Add($"{ex.GetType().Name}: {ex.InnerException?.Message ?? ex.Message}");
            return new LibraryReport("failed", torchSharpVersion, null, libPath is null ? null : Path.GetDirectoryName(libPath),
                libPath, stdcxxPath, hostLevel, requiredLevel, 0, repairs, notes);
        }
    }
}
