using PoolAI.Libraries;

namespace PoolAI.Tests.Libraries;

[TestClass]
public sealed class LibStdCxxRepairTests
{
    /// <summary>TorchSharp's library as NuGet ships it (never modified: tests work on copies).</summary>
    private static string Original
    {
        get
        {
            var packages = Environment.GetEnvironmentVariable("NUGET_PACKAGES") ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
            var version = typeof(TorchSharp.torch).Assembly.GetName().Version!;
            return Path.Combine(packages, "torchsharp", $"{version.Major}.{version.Minor}.{version.Build}", "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        }
    }

    /// <summary>The version names GCC 12's libstdc++ defines (Debian 12): GLIBCXX_3.4 … 3.4.30.</summary>
    private static HashSet<string> Gcc12Host => [.. Enumerable.Range(0, 31).Select(i => i == 0 ? "GLIBCXX_3.4" : $"GLIBCXX_3.4.{i}"), .. Enumerable.Range(0, 14).Select(i => i == 0 ? "CXXABI_1.3" : $"CXXABI_1.3.{i}")];

    private static string CopyOriginal()
    {
        if (!File.Exists(Original))
            Assert.Inconclusive($"TorchSharp's original native library is not at {Original}");
        var copy = Path.Combine(Path.GetTempPath(), $"libLibTorchSharp-{Guid.NewGuid():N}.so");
        File.Copy(Original, copy);
        return copy;
    }

    [TestMethod]
    public void TorchSharpNeedsExactlyOneSymbolFromGlibcxx3432()
    {
        var image = ElfImage.Load(Original);
        var needed = image.NeededVersions.Single(v => v.Name == "GLIBCXX_3.4.32");
        Assert.AreEqual("libstdc++.so.6", needed.File);
        var imports = image.Symbols.Where(s => !s.IsDefined && s.VersionIndex == needed.Index).Select(s => s.Name).ToArray();
        CollectionAssert.AreEqual(new[] { "_ZSt21ios_base_library_initv" }, imports);
    }

    [TestMethod]
    public void RepairIsIdempotent()
    {
        var copy = CopyOriginal();
        try
        {
            var first = LibStdCxxRepair.Apply(copy, Gcc12Host);
            CollectionAssert.AreEqual(
                new[] { "marked needed version GLIBCXX_3.4.32 (libstdc++.so.6) weak", "gave symbol _ZSt21ios_base_library_initv weak binding" },
                first.ToArray());
            var repaired = File.ReadAllBytes(copy);

            var second = LibStdCxxRepair.Apply(copy, Gcc12Host);
            Assert.AreEqual(0, second.Count);
            CollectionAssert.AreEqual(repaired, File.ReadAllBytes(copy));

            var image = ElfImage.Load(copy);
            Assert.IsTrue(image.NeededVersions.Single(v => v.Name == "GLIBCXX_3.4.32").IsWeak);
            Assert.AreEqual(ElfImage.BindingWeak, image.Symbols.Single(s => s.Name == "_ZSt21ios_base_library_initv").Binding);
        }
        finally
        {
            File.Delete(copy);
        }
    }

    [TestMethod]
    public void ARepairedLibraryKeepsTheOriginalsSizeAndLastWriteTimeSoThatABuildKeepsIt()
    {
        // MSBuild copies NuGet's file into a build output unless the target has the same size and last-write time
        // (Copy with SkipUnchangedFiles): a repaired copy that kept both survives the next `dotnet run`.
        var copy = CopyOriginal();
        try
        {
            var shipped = new DateTime(2026, 5, 7, 10, 3, 28, DateTimeKind.Utc);
            File.SetLastWriteTimeUtc(copy, shipped);

            Assert.AreEqual(2, LibStdCxxRepair.Apply(copy, Gcc12Host).Count);

            Assert.AreEqual(new FileInfo(Original).Length, new FileInfo(copy).Length);
            Assert.AreEqual(shipped, File.GetLastWriteTimeUtc(copy));
        }
        finally
        {
            File.Delete(copy);
        }
    }

    [TestMethod]
    public void RepairChangesOnlyTwoBytes()
    {
        var copy = CopyOriginal();
        try
        {
            LibStdCxxRepair.Apply(copy, Gcc12Host);
            var before = File.ReadAllBytes(Original);
            var after = File.ReadAllBytes(copy);
            Assert.AreEqual(before.Length, after.Length);
            Assert.AreEqual(2, before.Zip(after).Count(pair => pair.First != pair.Second));
        }
        finally
        {
            File.Delete(copy);
        }
    }

    [TestMethod]
    public void HostWithNewEnoughLibstdcxxNeedsNoRepairAndFileIsUntouched()
    {
        var copy = CopyOriginal();
        try
        {
            var host = Gcc12Host;
            host.Add("GLIBCXX_3.4.31");
            host.Add("GLIBCXX_3.4.32");
            var written = File.GetLastWriteTimeUtc(copy);
            Assert.AreEqual(0, LibStdCxxRepair.Apply(copy, host).Count);
            CollectionAssert.AreEqual(File.ReadAllBytes(Original), File.ReadAllBytes(copy));
            Assert.AreEqual(written, File.GetLastWriteTimeUtc(copy));
        }
        finally
        {
            File.Delete(copy);
        }
    }

    [TestMethod]
    public void MissingVersionWithRealImportsIsNotPatchedButExplained()
    {
        var copy = CopyOriginal();
        try
        {
            var host = Gcc12Host;
            host.Remove("GLIBCXX_3.4.29");
            var error = Assert.ThrowsExactly<LibraryRepairException>(() => LibStdCxxRepair.Apply(copy, host));
            StringAssert.Contains(error.Message, "GLIBCXX_3.4.29 is needed for");
            CollectionAssert.AreEqual(File.ReadAllBytes(Original), File.ReadAllBytes(copy));
        }
        finally
        {
            File.Delete(copy);
        }
    }

    [TestMethod]
    public void ThisProcessLoadedTorchAndReportsItsLibraries()
    {
        var report = TorchLibraries.EnsureLoaded();
        Assert.AreEqual("ok", report.Status);
        Assert.AreEqual("2.10.0.0", report.LibTorchVersion);
        Assert.IsTrue(report.Threads >= 1);
        Assert.IsTrue(File.Exists(report.LibTorchSharpPath));
        Assert.IsNotNull(report.LibStdCxxLevel);
    }
}
