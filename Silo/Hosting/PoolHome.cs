namespace PoolAI.Silo.Hosting;

/// <summary>
/// Where PoolAI keeps its local files: the SQLite database of the embedded pool (API key hashes, job texts) and the
/// secrets it generates. On Unix they are the owner's alone: the folder and <c>secrets/</c> 700, the files 600. New
/// folders and files are created so; looser modes of existing ones are tightened when a PoolAI process opens them.
/// </summary>
public static class PoolHome
{
    /// <summary>Owner read, write and search: mode 700.</summary>
    public const UnixFileMode FolderMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    /// <summary>Owner read and write: mode 600.</summary>
    public const UnixFileMode FileMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary><c>POOLAI_HOME</c>, or <c>~/.poolai</c>.</summary>
    public static string Directory => PoolAI.Hosting.PoolSecrets.Home;

    /// <summary>
    /// Tightens <paramref name="home"/> (default <see cref="Directory"/>) when it exists: the folder and its
    /// <c>secrets/</c> to the owner's permissions only, each file in <c>secrets/</c> too. Permissions are only ever
    /// removed. Does nothing on Windows, or for a folder that this user may not change (it keeps its owner's modes).
    /// </summary>
    public static void Secure(string? home = null)
    {
        home ??= Directory;
        if (OperatingSystem.IsWindows() || !System.IO.Directory.Exists(home))
            return;
        RestrictToOwner(home);
        var secrets = Path.Combine(home, "secrets");
        if (!System.IO.Directory.Exists(secrets))
            return;
        RestrictToOwner(secrets);
        foreach (var file in System.IO.Directory.EnumerateFiles(secrets))
            RestrictToOwner(file);
    }

    /// <summary>Creates <paramref name="folder"/> and its missing parents with <see cref="FolderMode"/> (Unix); existing folders are left as they are.</summary>
    public static void CreateFolder(string folder)
    {
        if (OperatingSystem.IsWindows())
        {
            System.IO.Directory.CreateDirectory(folder);
            return;
        }

        // Directory.CreateDirectory gives the mode to the last folder only; its missing parents would get the default.
        var missing = new Stack<string>();
        for (var path = Path.GetFullPath(folder); path is not null && !System.IO.Directory.Exists(path); path = Path.GetDirectoryName(path))
            missing.Push(path);
        foreach (var path in missing)
            System.IO.Directory.CreateDirectory(path, FolderMode);
    }

    /// <summary>
    /// Creates <paramref name="path"/> as an empty file with <see cref="FileMode"/> (Unix) unless it exists, so that a
    /// program that then opens it (SQLite) never makes it with its own, looser mode; an existing file is tightened by
    /// <see cref="RestrictToOwner"/>.
    /// </summary>
    public static void CreateOwnerOnlyFile(string path)
    {
        if (OperatingSystem.IsWindows())
            return;
        try
        {
            using var created = new FileStream(path, new FileStreamOptions { Mode = System.IO.FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = FileMode });
        }
        catch (IOException) when (File.Exists(path))
        {
            RestrictToOwner(path);
        }
    }

    /// <summary>
    /// Removes the group's and others' permissions from <paramref name="path"/> (a file or folder) if it has any and this
    /// user may change it; the owner's are kept. Nothing on Windows or when the path does not exist.
    /// </summary>
    public static void RestrictToOwner(string path)
    {
        if (OperatingSystem.IsWindows())
            return;
        try
        {
            var mode = File.GetUnixFileMode(path);
            if ((mode & ~FolderMode) != 0)
                File.SetUnixFileMode(path, mode & FolderMode);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Gone, another user's, or on a read-only file system: nothing this process may tighten.
        }
    }
}
