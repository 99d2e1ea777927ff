using static TorchSharp.torch;

namespace PoolAI.Models;

/// <summary>
/// A text file as token ids, split into a leading training part and a trailing validation part
/// (nanoGPT's <c>prepare.py</c>: the first 90% trains, the last 10% validates).
/// </summary>
public sealed class TextCorpus
{
    private readonly int[] _train;
    private readonly int[] _validation;

    /// <summary>Tokenizes <paramref name="text"/> and splits it at <paramref name="trainFraction"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="trainFraction"/> is not in (0, 1).</exception>
    public TextCorpus(string text, CharTokenizer tokenizer, double trainFraction = 0.9)
    {
        if (trainFraction is <= 0 or >= 1)
            throw new ArgumentOutOfRangeException(nameof(trainFraction), "must be in (0, 1)");
        Tokenizer = tokenizer;
        TrainFraction = trainFraction;
        var ids = tokenizer.Encode(text);
        var cut = (int)(ids.Length * trainFraction);
        _train = ids[..cut];
        _validation = ids[cut..];
    }

    /// <summary>The tokenizer used.</summary>
    public CharTokenizer Tokenizer { get; }

    /// <summary>Leading share used for training.</summary>
    public double TrainFraction { get; }

    /// <summary>Training tokens.</summary>
    public int TrainTokens => _train.Length;

    /// <summary>Validation tokens.</summary>
    public int ValidationTokens => _validation.Length;

    /// <summary>
    /// A training batch of <paramref name="batch"/> windows of <paramref name="length"/> tokens at random
    /// offsets: inputs <c>[batch, length]</c> and targets shifted by one, <c>[batch, length]</c>, int64.
    /// </summary>
    public (Tensor Inputs, Tensor Targets) SampleTrainBatch(int batch, int length, SplitMix64 random)
    {
        var inputs = new long[batch * length];
        var targets = new long[batch * length];
        for (var b = 0; b < batch; b++)
        {
            var start = random.NextInt(_train.Length - length - 1);
            for (var t = 0; t < length; t++)
            {
                inputs[b * length + t] = _train[start + t];
                targets[b * length + t] = _train[start + t + 1];
            }
        }

        return (tensor(inputs, [batch, length], int64), tensor(targets, [batch, length], int64));
    }

    /// <summary>
    /// The validation split as consecutive, non-overlapping windows of <paramref name="length"/> tokens,
    /// <paramref name="batch"/> windows at a time; every token after the first of a window is predicted once.
    /// </summary>
    public IEnumerable<(Tensor Inputs, Tensor Targets)> ValidationBatches(int batch, int length) => Windows(_validation, batch, length);

    /// <summary>Same as <see cref="ValidationBatches"/> over the first <paramref name="maxTokens"/> training tokens.</summary>
    public IEnumerable<(Tensor Inputs, Tensor Targets)> TrainBatches(int batch, int length, int maxTokens) =>
        Windows(_train.AsMemory(0, Math.Min(maxTokens, _train.Length)).ToArray(), batch, length);

    private static IEnumerable<(Tensor, Tensor)> Windows(int[] ids, int batch, int length)
    {
        var windows = (ids.Length - 1) / length;
        for (var first = 0; first < windows; first += batch)
        {
            var count = Math.Min(batch, windows - first);
            var inputs = new long[count * length];
            var targets = new long[count * length];
            for (var w = 0; w < count; w++)
            {
                var start = (first + w) * length;
                for (var t = 0; t < length; t++)
                {
                    inputs[w * length + t] = ids[start + t];
                    targets[w * length + t] = ids[start + t + 1];
                }
            }

            yield return (tensor(inputs, [count, length], int64), tensor(targets, [count, length], int64));
        }
    }
}
