using System.Diagnostics;
using System.Text.RegularExpressions;

namespace PoolAI.Tests.Repository;

/// <summary>The README's command that runs the tests shows the suite at work, as CI runs it: a line per finished test.</summary>
[TestClass]
public sealed partial class TestCommandTests
{
    [TestMethod]
    public async Task TheReadmesTestCommandPrintsALinePerFinishedTestWhenItsOutputIsRedirected()
    {
        var root = RepositoryRoot();
        var section = File.ReadAllText(Path.Combine(root, "README.md")).Split("## Run the tests", 2)[1];
        var command = CommandLine().Match(section).Groups[1].Value.Trim();
        StringAssert.StartsWith(command, "dotnet test --project Tests");
        StringAssert.Contains(File.ReadAllText(Path.Combine(root, ".ci", "run")), command + " ", "CI runs the README's command");

        // The same command on two quick tests of this build, its output redirected as in CI.
        var start = new ProcessStartInfo("dotnet") { WorkingDirectory = root, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in command.Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1))
            start.ArgumentList.Add(argument);
        foreach (var argument in new[] { "--no-build", "--filter", "FullyQualifiedName~MembershipClockTests", "--results-directory", Path.Combine(Path.GetTempPath(), $"poolai-nested-{Guid.NewGuid():N}") })
            start.ArgumentList.Add(argument);
        using var run = Process.Start(start)!;
        var output = run.StandardOutput.ReadToEndAsync();
        var errors = run.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        await run.WaitForExitAsync(timeout.Token);

        Assert.AreEqual(0, run.ExitCode, await output + await errors);
        var lines = (await output).Split('\n').Select(line => line.TrimEnd('\r')).ToList();
        Assert.IsTrue(lines.Any(line => line.StartsWith("passed ATimestampNeverSetReadsAsTheTimeSinceTheSiloWasBuiltNotSinceTheMachineBooted (", StringComparison.Ordinal)), await output);
        Assert.IsTrue(lines.Any(line => line.StartsWith("passed IntervalsTimesAndTimersAreTheMachineClocks (", StringComparison.Ordinal)), await output);
    }

    private static string RepositoryRoot()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "PoolAI.Orleans.sln")))
                return folder.FullName;
        }

        throw new InvalidOperationException($"no PoolAI.Orleans.sln above {AppContext.BaseDirectory}");
    }

    [GeneratedRegex(@"```bash\s*\n(dotnet test [^\n]*)\n")]
    private static partial Regex CommandLine();
}
