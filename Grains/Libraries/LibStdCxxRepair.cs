namespace PoolAI.Libraries;

/// <summary>
/// Makes a native library built against a newer libstdc++ load on a host with an older one, when —
/// and only when — every symbol it imports at the missing version levels is one that nothing calls.
/// <para>
/// The known case (see <c>docs</c> in the README, "Native libraries"): TorchSharp 0.107's
/// <c>libLibTorchSharp.so</c> was linked with GCC 13 and needs <c>GLIBCXX_3.4.32</c> for exactly one
/// symbol, <c>std::ios_base_library_init()</c>, which GCC 13 headers reference only to pin the library
/// version. Debian 12 and Ubuntu 22.04 ship GCC 12's libstdc++ (up to <c>GLIBCXX_3.4.30</c>). Marking
/// the needed version weak (<c>VER_FLG_WEAK</c>) and the symbol weak (<c>STB_WEAK</c>) lets the dynamic
/// linker load the library; the undefined weak symbol resolves to 0 and is never called.
/// </para>
/// </summary>
public static class LibStdCxxRepair
{
    /// <summary>Imported symbols that may be left unresolved: referenced to pin a version, never called.</summary>
    public static readonly IReadOnlySet<string> NeverCalledSymbols = new HashSet<string>(StringComparer.Ordinal)
    {
        "_ZSt21ios_base_library_initv",
    };

    /// <summary>Works out what a library needs from libstdc++ that the host lacks, and whether that can be repaired.</summary>
    /// <param name="library">The library to load.</param>
    /// <param name="hostVersions">Version names the host's libstdc++ defines.</param>
    public static RepairPlan Plan(ElfImage library, IReadOnlyCollection<string> hostVersions)
    {
        ArgumentNullException.ThrowIfNull(library);
        ArgumentNullException.ThrowIfNull(hostVersions);
        var missing = library.NeededVersions
            .Where(v => v.File.StartsWith("libstdc++", StringComparison.Ordinal) && !hostVersions.Contains(v.Name))
            .ToList();
        var versionsToWeaken = new List<NeededVersion>();
        var symbolsToWeaken = new List<DynamicSymbol>();
        var blockers = new List<string>();
        foreach (var version in missing)
        {
            var imports = library.Symbols.Where(s => !s.IsDefined && s.VersionIndex == version.Index).ToList();
            var unsafeImports = imports.Where(s => !NeverCalledSymbols.Contains(s.Name)).Select(s => s.Name).ToList();
            if (unsafeImports.Count > 0)
            {
                blockers.Add($"{version.Name} is needed for {string.Join(", ", unsafeImports)}, which the host's libstdc++ lacks");
                continue;
            }

            if (!version.IsWeak)
                versionsToWeaken.Add(version);
            symbolsToWeaken.AddRange(imports.Where(s => s.Binding != ElfImage.BindingWeak));
        }

        return new RepairPlan(missing.Select(v => v.Name).ToList(), versionsToWeaken, symbolsToWeaken, blockers);
    }

    /// <summary>
    /// Repairs the library at <paramref name="path"/> if it needs it: writes the patched bytes to a new
    /// file beside it, with the original's mode and last-write time (the size is the same: two bytes flip), and renames
    /// that over the original, so a hard link to the NuGet cache is broken, never written through. Running it again
    /// changes nothing, and a rebuild leaves the repaired file in place.
    /// </summary>
    /// <returns>The actions taken (empty when the library needed nothing or was repaired before).</returns>
    /// <exception cref="LibraryRepairException">The library needs versions that cannot safely be weakened.</exception>
    public static IReadOnlyList<string> Apply(string path, IReadOnlyCollection<string> hostVersions)
    {
        var image = ElfImage.Load(path);
        var plan = Plan(image, hostVersions);
        if (plan.Blockers.Count > 0)
            throw new LibraryRepairException($"{Path.GetFileName(path)} cannot be repaired: {string.Join("; ", plan.Blockers)}. Install a libstdc++ from GCC 13 or newer.");
        if (!plan.NeedsChanges)
            return [];

        var actions = new List<string>();
        foreach (var version in plan.VersionsToWeaken)
        {
            if (image.MarkVersionWeak(version))
                actions.Add($"marked needed version {version.Name} ({version.File}) weak");
        }

        foreach (var symbol in plan.SymbolsToWeaken)
        {
            if (image.MarkSymbolWeak(symbol))
                actions.Add($"gave symbol {symbol.Name} weak binding");
        }

        var temp = path + ".poolai-repair." + Environment.ProcessId;
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write))
            {
                stream.Write(image.Bytes);
                stream.Flush(flushToDisk: true);
            }

            if (!OperatingSystem.IsWindows())
                File.SetUnixFileMode(temp, File.GetUnixFileMode(path));
            // The same size and last-write time as the original: MSBuild's copy of NuGet's file into a build output
            // (Copy with SkipUnchangedFiles, as every `dotnet run` and `dotnet build` does) then finds the repaired copy
            // unchanged and keeps it, instead of putting the unrepaired one back to be repaired at the next start.
            File.SetLastWriteTimeUtc(temp, File.GetLastWriteTimeUtc(path));
            File.Move(temp, path, overwrite: true);
        }
        finally
        {
            File.Delete(temp);
        }

        return actions;
    }
}

/// <summary>What a library needs from libstdc++ beyond the host's, and the patch that would make it load.</summary>
/// <param name="MissingVersions">Needed versions the host does not define.</param>
/// <param name="VersionsToWeaken">Needed versions still to mark weak.</param>
/// <param name="SymbolsToWeaken">Imports still to give weak binding.</param>
/// <param name="Blockers">Why it cannot be repaired, if it cannot.</param>
public sealed record RepairPlan(
    IReadOnlyList<string> MissingVersions,
    IReadOnlyList<NeededVersion> VersionsToWeaken,
    IReadOnlyList<DynamicSymbol> SymbolsToWeaken,
    IReadOnlyList<string> Blockers)
{
    /// <summary>True when the file must change.</summary>
    public bool NeedsChanges => VersionsToWeaken.Count > 0 || SymbolsToWeaken.Count > 0;
}

/// <summary>A native library cannot be made to load on this host.</summary>
public sealed class LibraryRepairException(string message) : Exception(message);
