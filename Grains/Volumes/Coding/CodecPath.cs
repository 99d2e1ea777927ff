using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace PoolAI.Volumes.Coding;

/// <summary>The SIMD kernels <see cref="ReedSolomon"/> can run, fastest first.</summary>
internal enum CodecPath
{
    /// <summary>GFNI affine multiply on 512-bit vectors.</summary>
    Gfni512,

    /// <summary>GFNI affine multiply on 256-bit vectors.</summary>
    Gfni256,

    /// <summary>AVX-512BW split-table shuffle.</summary>
    Avx512Shuffle,

    /// <summary>AVX2 split-table shuffle.</summary>
    Avx2Shuffle,

    /// <summary>SSSE3 / Arm64 128-bit split-table shuffle.</summary>
    Vector128Shuffle,

    /// <summary>One byte at a time through the product table.</summary>
    Scalar,
}

/// <summary>Which <see cref="CodecPath"/>s this CPU runs, their names, and their coders.</summary>
internal static class CodecPaths
{
    /// <summary>Every path this CPU supports, fastest first (<see cref="CodecPath.Scalar"/> always last).</summary>
    public static readonly IReadOnlyList<CodecPath> Supported = Enum.GetValues<CodecPath>().Where(IsSupported).ToArray();

    /// <summary>The fastest supported path, the one <see cref="ReedSolomon"/> uses.</summary>
    public static CodecPath Best => Supported[0];

    /// <summary>True when this CPU (and runtime) accelerates <paramref name="path"/>.</summary>
    public static bool IsSupported(CodecPath path) => path switch
    {
        CodecPath.Gfni512 => Gfni.V512.IsSupported && Avx512BW.IsSupported,
        CodecPath.Gfni256 => Gfni.V256.IsSupported,
        CodecPath.Avx512Shuffle => Avx512BW.IsSupported,
        CodecPath.Avx2Shuffle => Avx2.IsSupported,
        CodecPath.Vector128Shuffle => Ssse3.IsSupported || AdvSimd.Arm64.IsSupported,
        _ => true,
    };

    /// <summary>The name <see cref="ReedSolomon.Features"/> reports: "gfni+avx512", "gfni+avx", "avx512bw", "avx2", "ssse3", "neon" or "scalar".</summary>
    public static string Name(CodecPath path) => path switch
    {
        CodecPath.Gfni512 => "gfni+avx512",
        CodecPath.Gfni256 => "gfni+avx",
        CodecPath.Avx512Shuffle => "avx512bw",
        CodecPath.Avx2Shuffle => "avx2",
        CodecPath.Vector128Shuffle => Ssse3.IsSupported ? "ssse3" : "neon",
        _ => "scalar",
    };

    /// <summary>The coder that runs <paramref name="path"/>.</summary>
    /// <exception cref="NotSupportedException">This CPU does not support the path.</exception>
    public static ShardCoder CoderFor(CodecPath path) => !IsSupported(path)
        ? throw new NotSupportedException($"this CPU does not support the {Name(path)} Reed–Solomon path")
        : path switch
        {
            CodecPath.Gfni512 => new VectorShardCoder<Gfni512Kernel, Vector512<byte>>(),
            CodecPath.Gfni256 => new VectorShardCoder<Gfni256Kernel, Vector256<byte>>(),
            CodecPath.Avx512Shuffle => new VectorShardCoder<Avx512ShuffleKernel, Vector512<byte>>(),
            CodecPath.Avx2Shuffle => new VectorShardCoder<Avx2ShuffleKernel, Vector256<byte>>(),
            CodecPath.Vector128Shuffle => new VectorShardCoder<Vector128ShuffleKernel, Vector128<byte>>(),
            _ => new ScalarShardCoder(),
        };
}
