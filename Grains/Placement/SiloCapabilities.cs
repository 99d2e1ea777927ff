namespace PoolAI.Placement;

/// <summary>Reads PoolAI's entries in silo metadata (see <see cref="PoolKeys"/>).</summary>
public static class SiloCapabilities
{
    /// <summary>A size in MiB from metadata key <paramref name="key"/>; 0 when absent or not a number.</summary>
    public static long Megabytes(IReadOnlyDictionary<string, string> metadata, string key) =>
        metadata.TryGetValue(key, out var value) && long.TryParse(value, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n) ? n : 0;

    /// <summary>Models the silo serves.</summary>
    public static IReadOnlyList<string> Models(IReadOnlyDictionary<string, string> metadata) =>
        metadata.TryGetValue(PoolKeys.ModelsMetadata, out var models)
            ? models.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            : [];

    /// <summary>Jobs the silo runs at once per queue (0 when it serves nothing).</summary>
    public static int Slots(IReadOnlyDictionary<string, string> metadata) =>
        metadata.TryGetValue(PoolKeys.SlotsMetadata, out var slots) && int.TryParse(slots, out var n) && n > 0 ? n : 0;
}
