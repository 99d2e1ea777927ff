using System.Globalization;

namespace PoolAI.Silo.Miners;

/// <summary>Sizes as a miner writes them: <c>10GiB</c>, <c>500 MB</c>, <c>1073741824</c>.</summary>
public static class StorageSize
{
    private static readonly (string Suffix, long Factor)[] Units =
    [
        ("KiB", 1L << 10), ("MiB", 1L << 20), ("GiB", 1L << 30), ("TiB", 1L << 40), ("PiB", 1L << 50),
        ("KB", 1_000), ("MB", 1_000_000), ("GB", 1_000_000_000), ("TB", 1_000_000_000_000), ("PB", 1_000_000_000_000_000),
        ("B", 1),
    ];

    /// <summary>
    /// Bytes of <paramref name="text"/>: a whole number of bytes, or a number (decimals allowed) followed by a unit —
    /// KiB, MiB, GiB, TiB, PiB (powers of 1024) or KB, MB, GB, TB, PB (powers of 1000), case-insensitive; null when it is
    /// neither, or more than <see cref="long.MaxValue"/> bytes.
    /// </summary>
    public static long? Parse(string? text)
    {
        var trimmed = text?.Trim() ?? string.Empty;
        if (trimmed.Length == 0)
            return null;
        foreach (var (suffix, factor) in Units)
        {
            if (!trimmed.EndsWith(suffix, StringComparison.OrdinalIgnoreCase))
                continue;
            var number = trimmed[..^suffix.Length].TrimEnd();
            if (!decimal.TryParse(number, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var value))
                return null;
            var bytes = value * factor;
            return bytes <= long.MaxValue ? (long)decimal.Floor(bytes) : null;
        }

        return long.TryParse(trimmed, NumberStyles.None, CultureInfo.InvariantCulture, out var plain) ? plain : null;
    }
}
