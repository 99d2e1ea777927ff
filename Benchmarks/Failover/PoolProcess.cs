using System.Diagnostics;

namespace PoolAI.Benchmarks.Failover;

/// <summary>
/// A pool executable (the real Silo or Gateway, from this program's own build output) as a child process with its own
/// ports and home, and its combined log. Used by the failover scenario and by the process tests.
/// </summary>
public sealed class PoolProcess : IDisposable
{
    private readonly Process _process;
    private readonly System.Text.StringBuilder _log = new();
    private string? _home;

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
        var siloPort = FreePort();
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, assembly));
        foreach (var arg in args)
            start.ArgumentList.Add(arg);
        start.ArgumentList.Add("--urls");
        start.ArgumentList.Add($"http://127.0.0.1:{httpPort}");
        var home = Path.Combine(Path.GetTempPath(), $"poolai-proc-{Guid.NewGuid():N}");
        start.Environment["POOLAI_HOME"] = home;
        start.Environment["PoolAI__Cluster__SiloPort"] = siloPort.ToString(System.Globalization.CultureInfo.InvariantCulture);
        start.Environment["PoolAI__Cluster__GatewayPort"] = gatewayPort.ToString(System.Globalization.CultureInfo.InvariantCulture);
        start.Environment["PoolAI__Worker__WorkerId"] = $"{Path.GetFileNameWithoutExtension(assembly)}-{siloPort}";
        start.Environment["Logging__LogLevel__Default"] = "Information";
        foreach (var (key, value) in environment)
            start.Environment[key] = value;
        var pool = new PoolProcess(Process.Start(start)!, siloPort, httpPort)
        {
            // Its own home goes with it (chunk stores fill a disk fast); a home the caller chose stays.
            _home = environment.ContainsKey("POOLAI_HOME") ? null : home,
        };
        pool._process.OutputDataReceived += (_, e) => pool.Append(e.Data);
        pool._process.ErrorDataReceived += (_, e) => pool.Append(e.Data);
        pool._process.BeginOutputReadLine();
        pool._process.BeginErrorReadLine();
        return pool;
    }

    /// <summary>Starts the Silo executable in <paramref name="role"/> on free ports.</summary>
    public static PoolProcess StartSilo(string role, IReadOnlyDictionary<string, string> environment) =>
        Start("PoolAI.Silo.dll", FreePort(), FreePort(), environment, "--role", role);

    /// <summary>Process id.</summary>
    public int Id => _process.Id;

    /// <summary>True once the process has exited.</summary>
    public bool HasExited => _process.HasExited;

    /// <summary>Kills the process at once with SIGKILL: no shutdown code runs, as when a machine loses power.</summary>
    public void KillHard()
    {
        _process.Kill(entireProcessTree: true);
        _process.WaitForExit();
    }

    /// <summary>Asks the process to stop gracefully (SIGTERM).</summary>
    public void Terminate()
    {
        using var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
    }

    /// <summary>A TCP port nothing listens on now.</summary>
    public static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Waits until the process has logged <paramref name="text"/>.</summary>
    /// <exception cref="InvalidOperationException">The process exited first.</exception>
    /// <exception cref="TimeoutException">The time ran out.</exception>
    public async Task WaitForLogAsync(string text, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!Log.Contains(text, StringComparison.Ordinal))
        {
            if (_process.HasExited)
                throw new InvalidOperationException($"the process exited with {_process.ExitCode} before logging '{text}': {Log}");
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"the process did not log '{text}' within {timeout}: {Log}");
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
        if (_home is not null && Directory.Exists(_home))
        {
            try
            {
                Directory.Delete(_home, recursive: true);
            }
            catch (IOException)
            {
                // a file still held open by a child that outlived the kill: left to the temp cleaner
            }
            catch (UnauthorizedAccessException)
            {
            }
        }
    }

    private void Append(string? line)
    {
        if (line is null)
            return;
        lock (_log)
            _log.AppendLine(line);
    }
}
