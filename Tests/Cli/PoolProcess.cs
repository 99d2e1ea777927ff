using System.Diagnostics;

namespace PoolAI.Tests.Cli;

/// <summary>A pool executable (the real Silo or Gateway) as a child process with its own ports and home, and its combined log.</summary>
public sealed class PoolProcess : IDisposable
{
    private readonly Process _process;
    private readonly System.Text.StringBuilder _log = new();

    private PoolProcess(Process process, int siloPort, int httpPort)
    {
        _process = process;
        SiloPort = siloPort;
        HttpPort = httpPort;
    }

    public int SiloPort { get; }

    public int HttpPort { get; }

    public string Log
    {
        get
        {
            lock (_log)
                return _log.ToString();
        }
    }

    /// <summary>Starts <paramref name="assembly"/> (e.g. <c>PoolAI.Gateway.dll</c>) listening for HTTP on <paramref name="httpPort"/> with gateway port <paramref name="gatewayPort"/>.</summary>
    public static PoolProcess Start(string assembly, int httpPort, int gatewayPort, IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        var siloPort = TestPorts.Free();
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, assembly));
        foreach (var arg in args)
            start.ArgumentList.Add(arg);
        start.ArgumentList.Add("--urls");
        start.ArgumentList.Add($"http://127.0.0.1:{httpPort}");
        start.Environment["POOLAI_HOME"] = Path.Combine(Path.GetTempPath(), $"poolai-proc-{Guid.NewGuid():N}");
        start.Environment["PoolAI__Cluster__SiloPort"] = siloPort.ToString(System.Globalization.CultureInfo.InvariantCulture);
        start.Environment["PoolAI__Cluster__GatewayPort"] = gatewayPort.ToString(System.Globalization.CultureInfo.InvariantCulture);
        start.Environment["PoolAI__Worker__WorkerId"] = $"{Path.GetFileNameWithoutExtension(assembly)}-{siloPort}";
        start.Environment["Logging__LogLevel__Default"] = "Information";
        foreach (var (key, value) in environment)
            start.Environment[key] = value;
        var pool = new PoolProcess(Process.Start(start)!, siloPort, httpPort);
        pool._process.OutputDataReceived += (_, e) => pool.Append(e.Data);
        pool._process.ErrorDataReceived += (_, e) => pool.Append(e.Data);
        pool._process.BeginOutputReadLine();
        pool._process.BeginErrorReadLine();
        return pool;
    }

    /// <summary>Starts the Silo executable in <paramref name="role"/> on free ports.</summary>
    public static PoolProcess StartSilo(string role, IReadOnlyDictionary<string, string> environment) =>
        Start("PoolAI.Silo.dll", TestPorts.Free(), TestPorts.Free(), environment, "--role", role);

    /// <summary>Waits until the process has logged <paramref name="text"/>; fails if it exits first or the time runs out.</summary>
    public async Task WaitForLogAsync(string text, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!Log.Contains(text, StringComparison.Ordinal))
        {
            if (_process.HasExited)
                Assert.Fail($"the process exited with {_process.ExitCode} before logging '{text}': {Log}");
            if (DateTime.UtcNow > deadline)
                Assert.Fail($"the process did not log '{text}' within {timeout}: {Log}");
            await Task.Delay(100);
        }
    }

    /// <summary>Waits for the exit code.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cancellation = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cancellation.Token);
        _process.WaitForExit();
        return _process.ExitCode;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (!_process.HasExited)
            _process.Kill(entireProcessTree: true);
        _process.WaitForExit();
        _process.Dispose();
    }

    private void Append(string? line)
    {
        if (line is null)
            return;
        lock (_log)
            _log.AppendLine(line);
    }
}
