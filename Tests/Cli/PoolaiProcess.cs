using System.Diagnostics;

namespace PoolAI.Tests.Cli;

/// <summary>Runs the real <c>poolai</c> tool (the Client project's build) as a child process.</summary>
public static class PoolaiProcess
{
    public sealed record Outcome(int ExitCode, string StandardOutput, string StandardError);

    public static async Task<Outcome> RunAsync(IReadOnlyDictionary<string, string>? environment, params string[] args)
    {
        var tool = Path.Combine(AppContext.BaseDirectory, "poolai.dll");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(tool);
        foreach (var arg in args)
            start.ArgumentList.Add(arg);
        start.Environment["POOLAI_HOME"] = Path.Combine(Path.GetTempPath(), $"poolai-cli-{Guid.NewGuid():N}");
        // Never join a pool someone left running on this machine: use gateway ports nothing listens on.
        start.Environment["POOLAI__Cluster__GatewayPort"] = TestPorts.FreeText();
        start.Environment["POOLAI__Cluster__SiloPort"] = TestPorts.FreeText();
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
            start.Environment[key] = value;
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
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

    public static Task<Outcome> RunAsync(params string[] args) => RunAsync(null, args);
}
