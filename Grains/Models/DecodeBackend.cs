using PoolAI.Decoding;

namespace PoolAI.Models;

/// <summary>Which arithmetic decodes generations (<see cref="ContinuousBatcher"/>, <see cref="TextGenerator"/>).</summary>
public enum DecodeBackend
{
    /// <summary>
    /// The native CPU decoder (<see cref="NativeDecoder"/>): exact by construction, so a request gives the same tokens
    /// alone or in any batch, on any CPU. The default.
    /// </summary>
    Native = 0,

    /// <summary>
    /// TorchSharp (libtorch) with every decoding pass padded to a multiple of 4 rows, which keeps a row's result
    /// independent of the batch with libtorch 2.10's MKL kernels on x64 (see <see cref="Gpt.Decode"/>). Its text differs
    /// from <see cref="Native"/>'s for the same seed. Meant for devices the native decoder does not run on (CUDA).
    /// </summary>
    Torch = 1,
}
