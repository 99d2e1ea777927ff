using System.Globalization;
using System.Security.Cryptography;
using PoolAI.Jobs;

namespace PoolAI.Volumes;

/// <summary>Shard ids, <c>VOLUME/WRITE/STRIPE.SHARD</c>: volume name, the write's id (32 hex digits), stripe index and shard index within the stripe.</summary>
public static class ShardIds
{
    /// <summary>Largest shard a store accepts, bytes (16 MiB): stripes are cut far below it.</summary>
    public const int MaxShardBytes = 16 << 20;

    /// <summary>The id of shard <paramref name="shard"/> of stripe <paramref name="stripe"/> of write <paramref name="write"/>.</summary>
    public static string Of(string volume, Guid write, int stripe, int shard) =>
        string.Create(CultureInfo.InvariantCulture, $"{volume}/{write:N}/{stripe}.{shard}");

    /// <summary>Splits a shard id.</summary>
    /// <exception cref="JobValidationException">Field <c>shard</c>: not of the form <c>VOLUME/WRITE/STRIPE.SHARD</c> with a valid volume name.</exception>
    public static (string Volume, Guid Write, int Stripe, int Shard) Parse(string id)
    {
        var parts = id.Split('/');
        if (parts.Length == 3 && VolumeNames.IsValid(parts[0]) && parts[1].Length == 32 && Guid.TryParseExact(parts[1], "N", out var write)
            && parts[2].Split('.') is [var stripe, var shard]
            && int.TryParse(stripe, NumberStyles.None, CultureInfo.InvariantCulture, out var s) && s.ToString(CultureInfo.InvariantCulture) == stripe
            && int.TryParse(shard, NumberStyles.None, CultureInfo.InvariantCulture, out var h) && h.ToString(CultureInfo.InvariantCulture) == shard && h < 256)
            return (parts[0], write, s, h);
        throw new JobValidationException("shard", $"'{Truncate(id)}' is not a shard id (VOLUME/WRITE/STRIPE.SHARD)");
    }

    private static string Truncate(string value) => value.Length <= 80 ? value : value[..80] + "…";
}

/// <summary>The storage audit's answer, computed the same way by a store and by whoever made the challenge.</summary>
public static class ShardAudits
{
    /// <summary>Largest range one challenge covers, bytes.</summary>
    public const int MaxRange = 64 << 10;

    /// <summary>SHA-256 of <paramref name="nonce"/> followed by <paramref name="range"/> (32 bytes).</summary>
    public static byte[] Answer(ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> range)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        sha.AppendData(nonce);
        sha.AppendData(range);
        return sha.GetHashAndReset();
    }
}
