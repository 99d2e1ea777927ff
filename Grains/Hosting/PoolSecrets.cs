namespace PoolAI.Hosting;

/// <summary>Secrets the embedded default generates on first start and keeps under <c>$POOLAI_HOME/secrets</c> (directory 700, files 600).</summary>
public static class PoolSecrets
{
    /// <summary><c>POOLAI_HOME</c>, or <c>~/.poolai</c>.</summary>
    public static string Home =>
        Environment.GetEnvironmentVariable("POOLAI_HOME") is { Length: > 0 } home
            ? home
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".poolai");

    /// <summary>The secret named <paramref name="name"/>, created with <paramref name="bytes"/> random bytes if missing.</summary>
    public static byte[] LoadOrCreate(string name, int bytes)
    {
        var directory = Path.Combine(Home, "secrets");
        var path = Path.Combine(directory, name);
        if (File.Exists(path))
            return Convert.FromBase64String(File.ReadAllText(path).Trim());
        if (!OperatingSystem.IsWindows())
        {
            // The home first, so that a home this creates is the owner's alone from the start (it holds pool.db too).
            const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
            if (!Directory.Exists(Home))
                Directory.CreateDirectory(Home, OwnerOnly);
            Directory.CreateDirectory(directory, OwnerOnly);
        }
        else
        {
            Directory.CreateDirectory(directory);
        }
        var secret = System.Security.Cryptography.RandomNumberGenerator.GetBytes(bytes);
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        try
        {
            using var writer = new StreamWriter(path, System.Text.Encoding.ASCII, options);
            writer.Write(Convert.ToBase64String(secret));
        }
        catch (IOException) when (File.Exists(path))
        {
            return Convert.FromBase64String(File.ReadAllText(path).Trim()); // another process made it first
        }

        return secret;
    }
}

