namespace PoolAI.Models;

/// <summary>Finds files that ship with PoolAI (models, data) beside the application or in the repository.</summary>
public static class RepositoryFiles
{
    /// <summary>
    /// Full path of <paramref name="relativePath"/> (a file or folder): first beside the application,
    /// then in the working directory and its parents. Null when found nowhere.
    /// </summary>
    public static string? Find(string relativePath)
    {
        foreach (var start in new[] { AppContext.BaseDirectory, Directory.GetCurrentDirectory() })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, relativePath);
                if (File.Exists(candidate) || Directory.Exists(candidate))
                    return candidate;
                if (start == AppContext.BaseDirectory)
                    break;
            }
        }

        return null;
    }
}
