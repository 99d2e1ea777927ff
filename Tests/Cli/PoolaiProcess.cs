using System.Diagnostics;

namespace PoolAI.Tests.Cli;

/// <summary>Runs the real <c>poolai</c> tool (the Client project's build) as a child process.</summary>
public static class PoolaiProcess
{
    public sealed record Outcome(int ExitCode, string StandardOutput, string StandardError);

    public static Task<Outcome> RunAsync(IReadOnlyDictionary<string, string>? environment, params string[] args) =>
        RunWithInputAsync(environment, standardInput: null, args);

    /// <summary>Runs the tool with <paramref name="standardInput"/> written to its standard input, which is then closed (null: the tool inherits this process's).</summary>
    public static async Task<Outcome> RunWithInputAsync(IReadOnlyDictionary<string, string>? environment, string? standardInput, params string[] args)
    {
        var (process, stderr) = Start(environment, args, redirectInput: standardInput is not null);
        using (process)
        {
            if (standardInput is not null)
            {
                await process.StandardInput.WriteAsync(standardInput);
                process.StandardInput.Close();
            }

            var stdout = process.StandardOutput.ReadToEndAsync();
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
            try
            {
                await process.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                throw new TimeoutException($"poolai {string.Join(' ', args)} did not finish in 3 minutes; stderr so far: {await stderr}");
            }

            return new Outcome(process.ExitCode, await stdout, await stderr);
        }
    }

    /// <summary>
    /// Starts the tool without waiting for it, in a fresh <c>POOLAI_HOME</c> and on free ports (then
    /// <paramref name="environment"/>); its standard error is read to the end in the background, standard output is the caller's.
    /// </summary>
    public static (Process Process, Task<string> StandardError) Start(IReadOnlyDictionary<string, string>? environment, params string[] args) =>
        Start(environment, args, redirectInput: false);

    private static (Process Process, Task<string> StandardError) Start(IReadOnlyDictionary<string, string>? environment, string[] args, bool redirectInput)
    {
        var tool = Path.Combine(AppContext.BaseDirectory, "poolai.dll");
        // Through env(1) with SIGINT back at its default: a test run started in the background by a non-interactive shell
        // (as CI scripts often are) inherits SIGINT ignored, and .NET keeps an inherited SIG_IGN, so the tool would never
        // see the Ctrl+C the interrupt test sends. env execs dotnet in place: the process id is the tool's.
        var start = new ProcessStartInfo("env") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = redirectInput, UseShellExecute = false };
        start.ArgumentList.Add("--default-signal=INT");
        start.ArgumentList.Add("dotnet");
        start.ArgumentList.Add(tool);
        foreach (var arg in args)
            start.ArgumentList.Add(arg);
        start.Environment["POOLAI_HOME"] = Path.Combine(Path.GetTempPath(), $"poolai-cli-{Guid.NewGuid():N}");
        // Never join a pool someone left running on this machine: use gateway ports nothing listens on.
        start.Environment["POOLAI__Cluster__GatewayPort"] = TestPorts.FreeText();
        start.Environment["POOLAI__Cluster__SiloPort"] = TestPorts.FreeText();
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
            start.Environment[key] = value;
        var process = Process.Start(start)!;
        return (process, process.StandardError.ReadToEndAsync());
    }

    /// <summary>Waits up to <paramref name="timeout"/> for the tool to exit; otherwise kills it and fails, saying <paramref name="what"/> and showing its standard error (how far it got).</summary>
    public static async Task ExitsWithinAsync(Process process, Task<string> stderr, TimeSpan timeout, string what)
    {
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"poolai did not exit within {timeout.TotalSeconds:0} s {what}; its standard error:\n{await stderr}");
        }
    }

    public static Task<Outcome> RunAsync(params string[] args) => RunAsync(null, args);
}
