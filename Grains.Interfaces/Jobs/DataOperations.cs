namespace PoolAI.Jobs;

/// <summary>
/// The operations of <see cref="JobKind.DataProcessing"/> jobs: a job names its operation in <see cref="JobSpec.Model"/>
/// and in <see cref="DataProcessingInput.Operation"/>. They run on the pool's trusted silos only (they read and write
/// volumes, whose keys open miners never get).
/// </summary>
public static class DataOperations
{
    /// <summary>
    /// Mirrors a volume prefix to an S3-compatible bucket (<see cref="SyncDirections.Push"/>) or a bucket prefix into a
    /// volume (<see cref="SyncDirections.Pull"/>), copying only what the target lacks or holds with other content.
    /// </summary>
    public const string Sync = "sync";

    /// <summary>Every operation.</summary>
    public static IReadOnlyList<string> All { get; } = [Sync];

    /// <summary>True when <paramref name="name"/> is an operation.</summary>
    public static bool Contains(string? name) => All.Contains(name, StringComparer.Ordinal);
}
