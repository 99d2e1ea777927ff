using System.Runtime.CompilerServices;
using PoolAI.Decoding;
using TorchSharp;
using static TorchSharp.torch;

namespace PoolAI.Models;

/// <summary>Copies a <see cref="Gpt"/>'s weights out of libtorch into the native decoder's form (<see cref="DecoderWeights"/>).</summary>
public static class GptWeights
{
    private static readonly ConditionalWeakTable<Gpt, DecoderWeights> Copies = new();

    /// <summary>The copy of <paramref name="model"/>'s weights, made on the first call for that module and shared after.</summary>
    /// <remarks>For frozen inference models (<see cref="ModelCheckpoint.Load"/>): later changes to the module are not seen; a module still being trained needs <see cref="From"/>.</remarks>
    public static DecoderWeights Of(Gpt model) => Copies.GetValue(model, From);

    /// <summary>A fresh copy of <paramref name="model"/>'s weights as they are now (float32).</summary>
    public static DecoderWeights From(Gpt model)
    {
        using var noGrad = no_grad();
        return new DecoderWeights(
            model.Config.Heads,
            Matrix(model.TokenEmbedding.weight!),
            Matrix(model.PositionEmbedding.weight!),
            model.Blocks.Select(block => new BlockWeights(
                Norm(block.AttentionNorm),
                Linear(block.Attention),
                Linear(block.AttentionProjection),
                Norm(block.MlpNorm),
                Linear(block.Mlp),
                Linear(block.MlpProjection))).ToArray(),
            Norm(model.FinalNorm));
    }

    private static float[] Floats(Tensor tensor) => tensor.detach().cpu().to(float32).contiguous().data<float>().ToArray();

    private static Matrix Matrix(Tensor matrix) => new((int)matrix.shape[0], (int)matrix.shape[1], Floats(matrix));

    private static LinearWeights Linear(TorchSharp.Modules.Linear linear) =>
        new(Matrix(linear.weight!), linear.bias is { } bias ? Floats(bias) : null);

    private static NormWeights Norm(TorchSharp.Modules.LayerNorm norm) =>
        new(Floats(norm.weight!), norm.bias is { } bias ? Floats(bias) : null);
}
