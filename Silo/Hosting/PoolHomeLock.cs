using System.Globalization;

namespace PoolAI.Silo.Hosting;

/// <summary>
/// One pool per pool home: the process that hosts the pool whose state is the home's SQLite database (an all-in-one
/// silo, a gateway that hosts the pool, or the <c>poolai</c> tool's embedded pool) holds an exclusive lock on
/// <c>$POOLAI_HOME/pool.lock</c> for as long as it runs, and writes the client port it listens on to
/// <c>pool.port</c>. Another process that would start a pool on the same home finds the lock taken and joins that
/// pool at that port instead (the tool), or refuses to start naming the port (a silo or gateway) — two pools writing one
/// database would each overwrite the other's state. The lock is the operating system's (an advisory lock on Unix), so a
/// killed process releases it.
/// </summary>
public sealed class PoolHomeLock : IDisposable
{
    private readonly FileStream _lock;

    private PoolHomeLock(FileStream held) => _lock = held;

    /// <summary>The lock file's path in <paramref name="home"/>.</summary>
    public static string LockPath(string home) => Path.Combine(home, "pool.lock");

    private static string PortPath(string home) => Path.Combine(home, "pool.port");

    /// <summary>
    /// Takes <paramref name="home"/> for a pool whose client gateway listens on <paramref name="gatewayPort"/> (0: none);
    /// null when another process holds it (see <see cref="HolderPort"/>).
    /// </summary>
    public static PoolHomeLock? TryTake(string home, int gatewayPort)
    {
        Directory.CreateDirectory(home);
        FileStream held;
        try
        {
            held = new FileStream(LockPath(home), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException)
        {
            return null;
        }

        File.WriteAllText(PortPath(home), gatewayPort.ToString(CultureInfo.InvariantCulture));
        return new PoolHomeLock(held);
    }

    /// <summary>
    /// The client port of the pool another process hosts on <paramref name="home"/>: null when no process holds the
    /// home; 0 when the holder takes no clients.
    /// </summary>
    public static int? HolderPort(string home)
    {
        if (!File.Exists(LockPath(home)))
            return null;
        try
        {
            using var probe = new FileStream(LockPath(home), FileMode.Open, FileAccess.ReadWrite, FileShare.None);
            return null; // nobody holds it
        }
        catch (IOException)
        {
            return File.Exists(PortPath(home)) && int.TryParse(File.ReadAllText(PortPath(home)).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var port) ? port : 0;
        }
    }

    /// <summary>True when the pool that <paramref name="configuration"/> describes keeps its state in the pool home's database (SQLite at its default place).</summary>
    public static bool UsesHomeDatabase(Microsoft.Extensions.Configuration.IConfiguration configuration)
    {
        var storage = Microsoft.Extensions.Configuration.ConfigurationBinder.Get<PoolStorageOptions>(configuration.GetSection(PoolStorageOptions.Section)) ?? new PoolStorageOptions();
        return string.Equals(storage.Provider.Trim(), "sqlite", StringComparison.OrdinalIgnoreCase) && string.IsNullOrWhiteSpace(storage.ConnectionString);
    }

    /// <summary>
    /// For a silo or gateway about to host the pool of the home's database: takes the home, or refuses naming the port
    /// of the pool that holds it.
    /// </summary>
    /// <exception cref="PoolConfigurationException">Another process hosts the pool of this home.</exception>
    public static PoolHomeLock TakeOrRefuse(string home, int gatewayPort) =>
        TryTake(home, gatewayPort) ?? throw new PoolConfigurationException("POOLAI_HOME",
            $"another process hosts the pool of {home}{(HolderPort(home) is > 0 and var port ? $" (client port {port}): stop it, or join it with PoolAI__Client__Gateways=127.0.0.1:{port}" : ": stop it first")}, or give this one another POOLAI_HOME");

    /// <inheritdoc />
    public void Dispose() => _lock.Dispose();
}
