using System.Globalization;
using PoolAI.Jobs;

namespace PoolAI.Volumes;

/// <summary>
/// How a volume protects its data: <c>mirror:N</c> keeps N copies of each stripe (RAID-1); <c>rs:K+M</c> cuts each
/// stripe into K data shards and adds M Reed–Solomon parity shards (RAID-5 is <c>rs:K+1</c>, RAID-6 <c>rs:K+2</c>), so
/// any K of the K+M shards rebuild the stripe. Either way the shards of one stripe go to distinct stores.
/// </summary>
/// <param name="DataShards">K: shards that hold the stripe's bytes (1 for a mirror).</param>
/// <param name="ParityShards">M: shards that can be lost (N − 1 for a mirror).</param>
/// <param name="Mirror">True for <c>mirror:N</c>: every shard is a full copy.</param>
[GenerateSerializer, Immutable, Alias("poolai.VolumeLayout")]
[System.Text.Json.Serialization.JsonConverter(typeof(VolumeLayoutJsonConverter))]
public sealed record VolumeLayout([property: Id(0)] int DataShards, [property: Id(1)] int ParityShards, [property: Id(2)] bool Mirror)
{
    /// <summary>The default, <c>rs:4+2</c>: survives two lost stores at 1.5× the stored bytes.</summary>
    public static readonly VolumeLayout Default = new(4, 2, false);

    /// <summary>Most shards in one stripe: GF(2^8) Reed–Solomon codes have at most 256 (we keep one spare for the Cauchy construction).</summary>
    public const int MaxShards = 255;

    /// <summary>Most copies of a mirror.</summary>
    public const int MaxCopies = 16;

    /// <summary>K + M.</summary>
    public int TotalShards => DataShards + ParityShards;

    /// <summary>Stored bytes per byte of data: (K + M) / K.</summary>
    public double Overhead => (double)TotalShards / DataShards;

    /// <summary>Parses <c>rs:K+M</c> or <c>mirror:N</c>.</summary>
    /// <exception cref="JobValidationException">Field <paramref name="field"/>: the syntax, or K, M or N out of range (K ≥ 1, M ≥ 1, K + M ≤ <see cref="MaxShards"/>; 1 ≤ N ≤ <see cref="MaxCopies"/>).</exception>
    public static VolumeLayout Parse(string? text, string field = "layout")
    {
        text = text?.Trim().ToLowerInvariant();
        if (text is null || text.Length == 0)
            return Default;
        if (text.StartsWith("mirror:", StringComparison.Ordinal))
        {
            if (!int.TryParse(text["mirror:".Length..], NumberStyles.None, CultureInfo.InvariantCulture, out var copies))
                throw new JobValidationException(field, $"'{text}' is not a layout: write rs:K+M (e.g. rs:4+2) or mirror:N (e.g. mirror:3)");
            if (copies is < 1 or > MaxCopies)
                throw new JobValidationException(field, $"mirror:N needs 1 ≤ N ≤ {MaxCopies} copies (got {copies})");
            return new VolumeLayout(1, copies - 1, true);
        }

        if (text.StartsWith("rs:", StringComparison.Ordinal) && text["rs:".Length..].Split('+') is [var k, var m]
            && int.TryParse(k, NumberStyles.None, CultureInfo.InvariantCulture, out var data)
            && int.TryParse(m, NumberStyles.None, CultureInfo.InvariantCulture, out var parity))
        {
            if (data < 1)
                throw new JobValidationException(field, $"rs:K+M needs K ≥ 1 data shards (got {data})");
            if (parity < 1)
                throw new JobValidationException(field, $"rs:K+M needs M ≥ 1 parity shards (got {parity}); without parity use mirror:1");
            if (data + parity > MaxShards)
                throw new JobValidationException(field, $"rs:K+M needs K + M ≤ {MaxShards}, the most a GF(2^8) code has (got {data + parity})");
            return new VolumeLayout(data, parity, false);
        }

        throw new JobValidationException(field, $"'{text}' is not a layout: write rs:K+M (e.g. rs:4+2) or mirror:N (e.g. mirror:3)");
    }

    /// <inheritdoc />
    public override string ToString() => Mirror
        ? string.Create(CultureInfo.InvariantCulture, $"mirror:{TotalShards}")
        : string.Create(CultureInfo.InvariantCulture, $"rs:{DataShards}+{ParityShards}");
}
