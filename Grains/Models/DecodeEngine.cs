using PoolAI.Decoding;

namespace PoolAI.Models;

/// <summary>The decoding backends' arithmetic versions, and the factory that makes a backend for a batch.</summary>
public static class DecodeEngine
{
    /// <summary>
    /// Version of the default decoder's arithmetic (<see cref="DecodeBackend.Native"/>). The same model, settings and
    /// seed give the same text for as long as this stays the same, so a result cache keyed by it never answers with
    /// text that the decoder would no longer produce. It changes with any change that could change a logit's bits.
    /// </summary>
    public const string Version = NativeDecoder.ArithmeticVersion;

    /// <summary>Version of the TorchSharp decoder's arithmetic (<see cref="DecodeBackend.Torch"/>); its bits also depend on libtorch's build.</summary>
    public const string TorchVersion = "torch-pad4-1";

    /// <summary>The arithmetic version of <paramref name="backend"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Not a backend.</exception>
    public static string VersionOf(DecodeBackend backend) => backend switch
    {
        DecodeBackend.Native => Version,
        DecodeBackend.Torch => TorchVersion,
        _ => throw new ArgumentOutOfRangeException(nameof(backend), backend, "not a decode backend"),
    };

    /// <summary>A decoder of <paramref name="rows"/> sequences for <paramref name="model"/>.</summary>
    internal static IDecoder Create(LoadedModel model, int rows, DecodeBackend backend) => backend switch
    {
        DecodeBackend.Native => new NativeDecoder(GptWeights.Of(model.Model), rows),
        DecodeBackend.Torch => new TorchDecoder(model.Model, rows),
        _ => throw new ArgumentOutOfRangeException(nameof(backend), backend, "not a decode backend"),
    };
}
