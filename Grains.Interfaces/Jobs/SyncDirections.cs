namespace PoolAI.Jobs;

/// <summary>Which way a <see cref="DataOperations.Sync"/> job copies (<see cref="DataProcessingInput.Direction"/>).</summary>
public static class SyncDirections
{
    /// <summary>Volume → bucket: the volume's files under the prefix become the bucket's objects under the bucket prefix.</summary>
    public const string Push = "push";

    /// <summary>Bucket → volume: the bucket's objects under the bucket prefix become the volume's files under the prefix.</summary>
    public const string Pull = "pull";

    /// <summary>Both directions.</summary>
    public static IReadOnlyList<string> All { get; } = [Push, Pull];
}
