using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.Json.Serialization;
using PoolAI.Volumes.Coding;

namespace PoolAI.Benchmarks.Volumes;

/// <summary>
/// Single-core speed of <see cref="ReedSolomon"/> (the <c>volume-codec</c> subcommand), measured the way Intel ISA-L's
/// anchor <c>reference/isal_rs.c</c> measures ISA-L so the two compare: rs:4+2 and rs:10+4 with 1 MiB shards
/// (64-byte aligned, random bytes), encode of the M parity shards, and decode = rebuild of the first M data shards from
/// the K that remain (data shards M..K−1 and the M parity shards). Each repeat runs one operation back to back for a
/// fixed time on the calling thread; GB/s counts data bytes (K shards × shard bytes per call), 10^9 bytes a GB.
/// </summary>
public static class CodecBenchmark
{
    /// <summary>The codes measured, (K, M).</summary>
    public static readonly (int Data, int Parity)[] Codes = [(4, 2), (10, 4)];

    /// <summary>Measures every code in <see cref="Codes"/>; <paramref name="seconds"/> per repeat and operation.</summary>
    /// <param name="shardBytes">Bytes per shard (1 MiB in the published figures).</param>
    /// <param name="repeats">Timed runs per code and operation; the result gives their median, min and max.</param>
    /// <param name="seconds">Length of one timed run, seconds.</param>
    /// <param name="log">Progress lines (standard error).</param>
    /// <param name="path">A kernel name as <see cref="ReedSolomon.Features"/> gives it (say "avx2") to time that kernel
    /// instead of the fastest; null for the fastest.</param>
    /// <exception cref="ArgumentException">This CPU has no kernel of that name.</exception>
    public static CodecFigures Run(int shardBytes, int repeats, double seconds, Action<string> log, string? path = null)
    {
        var kernel = path is null ? CodecPaths.Best
            : CodecPaths.Supported.FirstOrDefault(p => CodecPaths.Name(p) == path, (CodecPath)(-1)) is var found && found >= 0 ? found
            : throw new ArgumentException($"this CPU has no '{path}' kernel; it has {string.Join(", ", CodecPaths.Supported.Select(CodecPaths.Name))}", nameof(path));
        var encode = new Dictionary<string, Summary>();
        var decode = new Dictionary<string, Summary>();
        foreach (var (k, m) in Codes)
        {
            var name = $"rs:{k}+{m}";
            var codec = new ReedSolomon(k, m, kernel);
            var shards = AlignedShards(k + m, shardBytes);
            var data = shards[..k].Select(s => (ReadOnlyMemory<byte>)s).ToArray();
            var parity = shards[k..];
            codec.Encode(data, parity);
            var original = shards.Select(s => s.ToArray()).ToArray();
            var present = Enumerable.Range(0, k + m).Select(i => i >= m).ToArray();

            encode[name] = Repeat(repeats, seconds, k, shardBytes, () => codec.Encode(data, parity));
            decode[name] = Repeat(repeats, seconds, k, shardBytes, () => codec.Reconstruct(shards, present, dataOnly: true));
            for (var i = 0; i < m; i++)
                if (!shards[i].Span.SequenceEqual(original[i]))
                    throw new InvalidOperationException($"{name}: rebuilt data shard {i} differs from the original");
            log($"volume-codec {name} ({CodecPaths.Name(kernel)}): encode {Format(encode[name])} GB/s, rebuild of {m} lost {Format(decode[name])} GB/s");
        }

        return new CodecFigures(CodecPaths.Name(kernel), shardBytes, repeats, seconds, encode, decode);
    }

    // GB/s of data bytes over each timed run, after one untimed run that lets the JIT reach its final code.
    private static Summary Repeat(int repeats, double seconds, int dataShards, int shardBytes, Action operation)
    {
        Time(Math.Min(seconds, 0.2), operation);
        var rates = new List<double>();
        for (var r = 0; r < repeats; r++)
        {
            var (calls, elapsed) = Time(seconds, operation);
            rates.Add(Math.Round((double)calls * dataShards * shardBytes / elapsed / 1e9, 2));
        }

        return Summary.Of(rates);
    }

    private static (long Calls, double Seconds) Time(double seconds, Action operation)
    {
        var clock = Stopwatch.StartNew();
        long calls = 0;
        do
        {
            operation();
            calls++;
        }
        while (clock.Elapsed.TotalSeconds < seconds);
        return (calls, clock.Elapsed.TotalSeconds);
    }

    // Random shards starting on 64-byte boundaries (as isal_rs.c's aligned_alloc(64)), in pinned arrays.
    private static Memory<byte>[] AlignedShards(int count, int bytes)
    {
        var random = new Random(12345);
        var shards = new Memory<byte>[count];
        for (var i = 0; i < count; i++)
        {
            var array = GC.AllocateUninitializedArray<byte>(bytes + 64, pinned: true);
            random.NextBytes(array);
            shards[i] = array.AsMemory(Misalignment(array), bytes);
        }

        return shards;
    }

    // Bytes to skip to reach a 64-byte boundary in an array on the pinned heap (it never moves).
    private static int Misalignment(byte[] array)
    {
        var handle = GCHandle.Alloc(array, GCHandleType.Pinned);
        try
        {
            return (int)((64 - (handle.AddrOfPinnedObject() % 64)) % 64);
        }
        finally
        {
            handle.Free();
        }
    }

    private static string Format(Summary s) => FormattableString.Invariant($"{s.Median:F2} ({s.Min:F2}–{s.Max:F2})");
}

/// <summary>
/// The <c>volume-codec</c> figures, one JSON line. <c>encode_gbps_per_core</c> and <c>decode_gbps_per_core</c> map a
/// code name ("rs:4+2", "rs:10+4") to {"Median", "Min", "Max"} GB/s of data bytes over the repeats on one core; decode
/// is the rebuild of M lost data shards.
/// </summary>
/// <param name="CodecFeatures">The kernel timed: <see cref="ReedSolomon.Features"/> unless another was asked for.</param>
/// <param name="ShardBytes">Bytes per shard.</param>
/// <param name="Repeats">Timed runs per code and operation.</param>
/// <param name="SecondsPerRepeat">Length of one timed run, seconds.</param>
/// <param name="EncodeGbpsPerCore">Encode GB/s per code.</param>
/// <param name="DecodeGbpsPerCore">Rebuild GB/s per code.</param>
public sealed record CodecFigures(
    [property: JsonPropertyName("codec_features")] string CodecFeatures,
    [property: JsonPropertyName("shard_bytes")] int ShardBytes,
    [property: JsonPropertyName("repeats")] int Repeats,
    [property: JsonPropertyName("seconds_per_repeat")] double SecondsPerRepeat,
    [property: JsonPropertyName("encode_gbps_per_core")] IReadOnlyDictionary<string, Summary> EncodeGbpsPerCore,
    [property: JsonPropertyName("decode_gbps_per_core")] IReadOnlyDictionary<string, Summary> DecodeGbpsPerCore);
