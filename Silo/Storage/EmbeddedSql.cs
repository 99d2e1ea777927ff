using System.Reflection;

namespace PoolAI.Silo.Storage;

/// <summary>The SQL scripts under <c>config/sql/</c>, embedded in this assembly with a logical-name prefix per database.</summary>
internal static class EmbeddedSql
{
    /// <summary>(file name, text) of every script whose resource name starts with <paramref name="prefix"/>, in file-name order.</summary>
    public static IEnumerable<(string Name, string Sql)> Read(string prefix)
    {
        var assembly = Assembly.GetExecutingAssembly();
        foreach (var resource in assembly.GetManifestResourceNames().Where(n => n.StartsWith(prefix, StringComparison.Ordinal)).Order(StringComparer.Ordinal))
        {
            using var stream = assembly.GetManifestResourceStream(resource)!;
            using var reader = new StreamReader(stream);
            yield return (resource[prefix.Length..], reader.ReadToEnd());
        }
    }
}
