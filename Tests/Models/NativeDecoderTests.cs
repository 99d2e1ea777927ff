using PoolAI.Models;
using PoolAI.Decoding;
using TorchSharp;
using static TorchSharp.torch;

namespace PoolAI.Tests.Models;

[TestClass]
public sealed class NativeDecoderTests
{
    /// <summary>Largest difference allowed between a native logit and TorchSharp's for the same tokens (logits of the shipped model reach about ±12).</summary>
    private const float Tolerance = 1e-4f;

    private static LoadedModel Shakespeare => TestModels.ShakespeareModel;

    private static int Vocabulary => Shakespeare.Model.Config.VocabSize;

    private static int BlockSize => Shakespeare.Model.Config.BlockSize;

    private static DecoderWeights Weights => GptWeights.Of(Shakespeare.Model);

    [TestMethod]
    public void PrefillLogitsMatchTorchSharpsForwardPassAtEveryPosition()
    {
        var tokens = TextTokens(0, BlockSize);
        var native = new float[BlockSize * Vocabulary];
        new NativeDecoder(Weights, rows: 2).Prefill(1, tokens, native);

        AssertClose(TorchLogits(Shakespeare.Model, tokens), native, "a full block");
    }

    [TestMethod]
    public void DecodeStepsAndTheRePrefillOfAFullCacheMatchTorchSharpsForwardPass()
    {
        // The generation loop's own schedule (SequenceBatch): prefill the prompt, one token per step until the block is
        // full, then prefill again from the last ¾ block and go on; every step's logits against TorchSharp's forward
        // pass over the same window.
        var text = TextTokens(1000, 300);
        var decoder = new NativeDecoder(Weights, rows: 3);
        const int row = 2;
        var start = 0;
        var length = 6;
        var logits = new float[Vocabulary];
        decoder.Prefill(row, text.AsSpan(start, length), logits);
        var reprefills = 0;
        for (var end = length; end < text.Length; end++)
        {
            AssertClose(LastTorchLogits(text[start..end]), logits, $"tokens {start}..{end - 1}");
            if (end - start == BlockSize)
            {
                start = end + 1 - BlockSize * 3 / 4;
                decoder.Prefill(row, text.AsSpan(start, end + 1 - start), logits);
                reprefills++;
                continue;
            }

            decoder.Decode([row], [text[end]], [end - start], logits);
        }

        Assert.AreEqual(6, reprefills);
    }

    [TestMethod]
    public void OddSizesWithBiasesMatchTorchSharp()
    {
        // Widths that are no multiple of 16 (padding, vector tails), a block that is none either, and every bias.
        var config = new GptConfig(VocabSize: 37, BlockSize: 21, Layers: 2, Heads: 5, Embedding: 40, Bias: true);
        using var model = new Gpt(config, seed: 11);
        model.eval();
        using (no_grad())
        {
            // Fresh biases are zero; make them count.
            foreach (var (_, bias) in model.named_parameters().Where(p => p.name.EndsWith("bias", StringComparison.Ordinal)))
                bias.uniform_(-0.5, 0.5);
        }

        var random = new Random(5);
        var tokens = Enumerable.Range(0, config.BlockSize).Select(_ => random.Next(config.VocabSize)).ToArray();
        foreach (var lanes in new[] { DecoderLanes.Sixteen, DecoderLanes.Eight, DecoderLanes.One })
        {
            var native = new float[tokens.Length * config.VocabSize];
            new NativeDecoder(GptWeights.From(model), rows: 1, lanes).Prefill(0, tokens, native);
            AssertClose(TorchLogits(model, tokens), native, $"{lanes} lanes");
        }
    }

    [TestMethod]
    public void ASequencesLogitsAreTheSameBitsAloneAndInBatchesOfAnySize()
    {
        var prompts = Enumerable.Range(0, 16).Select(i => TextTokens(97 * i, 3 + 7 * i)).ToArray();
        var alone = Enumerable.Range(0, 16).Select(i => Steps([i], cacheRows: [0], capacity: 1)[0]).ToArray();

        int[][] batches = [[4, 9], [15, 0, 7], [3, 11, 1, 14, 6], [.. Enumerable.Range(0, 16).Reverse()]];
        foreach (var batch in batches)
        {
            // Each in a cache row other than its place in the pass, so neither index can leak into the arithmetic.
            var rows = batch.Select((_, place) => (place * 5 + 3) % 16).ToArray();
            var together = Steps(batch, rows, capacity: 16);
            for (var place = 0; place < batch.Length; place++)
                AssertSameBits(alone[batch[place]], together[place], $"sequence {batch[place]} in a batch of {batch.Length}");
        }

        // Prefills the prompts into their rows, then decodes four steps of them all together; the logits of every step, per sequence.
        float[][] Steps(int[] sequences, int[] cacheRows, int capacity)
        {
            var decoder = new NativeDecoder(Weights, capacity);
            var results = sequences.Select(_ => new List<float>()).ToArray();
            for (var place = 0; place < sequences.Length; place++)
            {
                var prompt = prompts[sequences[place]];
                decoder.Prefill(cacheRows[place], prompt.AsSpan(0, prompt.Length - 1), new float[Vocabulary]);
            }

            var logits = new float[sequences.Length * Vocabulary];
            for (var step = 0; step < 4; step++)
            {
                // Tokens and positions differ per sequence: the prompt's last token, then fixed ones.
                var tokens = sequences.Select(s => step == 0 ? prompts[s][^1] : (s + step * 13) % Vocabulary).ToArray();
                var positions = sequences.Select(s => prompts[s].Length - 1 + step).ToArray();
                decoder.Decode(cacheRows, tokens, positions, logits);
                for (var place = 0; place < sequences.Length; place++)
                    results[place].AddRange(logits.AsSpan(place * Vocabulary, Vocabulary));
            }

            return results.Select(r => r.ToArray()).ToArray();
        }
    }

    [TestMethod]
    public void APrefillAndStepByStepDecodingGiveTheSameBits()
    {
        var tokens = TextTokens(5000, BlockSize);
        var prefilled = new float[tokens.Length * Vocabulary];
        new NativeDecoder(Weights, rows: 1).Prefill(0, tokens, prefilled);

        var decoder = new NativeDecoder(Weights, rows: 1);
        var stepped = new float[tokens.Length * Vocabulary];
        decoder.Prefill(0, tokens.AsSpan(0, 1), stepped.AsSpan(0, Vocabulary));
        for (var position = 1; position < tokens.Length; position++)
            decoder.Decode([0], [tokens[position]], [position], stepped.AsSpan(position * Vocabulary, Vocabulary));

        AssertSameBits(prefilled, stepped, "a block prefilled at once and token by token");
    }

    [TestMethod]
    public void EveryVectorWidthGivesTheSameBits()
    {
        // What makes a seed's text the same on a miner with AVX-512, one with AVX2 and one with neither.
        var tokens = TextTokens(20_000, 90);
        var results = new[] { DecoderLanes.Sixteen, DecoderLanes.Eight, DecoderLanes.Four, DecoderLanes.One }.Select(lanes =>
        {
            var decoder = new NativeDecoder(Weights, rows: 2, lanes);
            Assert.AreEqual(lanes, decoder.Lanes);
            var logits = new float[(tokens.Length + 10) * Vocabulary];
            decoder.Prefill(1, tokens, logits.AsSpan(0, tokens.Length * Vocabulary));
            for (var step = 0; step < 10; step++)
                decoder.Decode([1], [(7 * step) % Vocabulary], [tokens.Length + step], logits.AsSpan((tokens.Length + step) * Vocabulary, Vocabulary));
            return (lanes, logits);
        }).ToArray();

        foreach (var (lanes, logits) in results.Skip(1))
            AssertSameBits(results[0].logits, logits, $"{lanes} lanes against 16");
    }

    [TestMethod]
    public void EveryThreadCountGivesTheSameBits()
    {
        // Helpers take whole output panels and whole (row, head) attention pairs, so a number never changes hands mid-sum.
        var prompts = Enumerable.Range(0, 5).Select(i => TextTokens(700 * i, 20 + 9 * i)).ToArray();
        var results = new[] { 1, 2, 3 }.Select(threads =>
        {
            using var decoder = new NativeDecoder(Weights, rows: 5, threads: threads);
            Assert.AreEqual(threads, decoder.Threads);
            var prefill = new float[prompts[4].Length * Vocabulary];
            decoder.Prefill(4, prompts[4], prefill);
            for (var row = 0; row < 4; row++)
                decoder.Prefill(row, prompts[row], new float[Vocabulary]);
            var logits = new float[5 * Vocabulary];
            decoder.Decode([0, 1, 2, 3, 4], [1, 2, 3, 4, 5], prompts.Select(p => p.Length).ToArray(), logits);
            return prefill.Concat(logits).ToArray();
        }).ToArray();

        AssertSameBits(results[0], results[1], "2 threads against 1");
        AssertSameBits(results[0], results[2], "3 threads against 1");
    }

    [TestMethod]
    public void CopiedRowsDecodeLikeTheirSource()
    {
        var tokens = TextTokens(300, 40);
        var decoder = new NativeDecoder(Weights, rows: 3);
        decoder.Prefill(0, tokens, new float[Vocabulary]);
        decoder.CopyRow(0, 2);
        var logits = new float[2 * Vocabulary];
        decoder.Decode([0, 2], [5, 5], [40, 40], logits);
        AssertSameBits(logits[..Vocabulary], logits[Vocabulary..], "row 2 copied from row 0");
    }

    [TestMethod]
    public void RowsPositionsTokensAndSizesOutOfRangeAreRefused()
    {
        // The kernels index raw memory with these, so each must be checked before the arithmetic starts.
        var decoder = new NativeDecoder(Weights, rows: 2);
        var one = new float[Vocabulary];
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => decoder.Prefill(2, [1, 2], one));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => decoder.Prefill(-1, [1, 2], one));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => decoder.Prefill(0, [1, Vocabulary], one));
        Assert.ThrowsExactly<ArgumentException>(() => decoder.Prefill(0, new int[BlockSize + 1], one));
        Assert.ThrowsExactly<ArgumentException>(() => decoder.Prefill(0, [], one));
        Assert.ThrowsExactly<ArgumentException>(() => decoder.Prefill(0, [1, 2], new float[Vocabulary + 1]));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => decoder.Decode([2], [1], [0], one));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => decoder.Decode([0], [-1], [0], one));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => decoder.Decode([0], [1], [BlockSize], one));
        Assert.ThrowsExactly<ArgumentException>(() => decoder.Decode([0, 1, 0], [1, 1, 1], [0, 0, 0], new float[3 * Vocabulary]));
        Assert.ThrowsExactly<ArgumentException>(() => decoder.Decode([0], [1], [0], new float[2 * Vocabulary]));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => decoder.CopyRow(0, 2));
    }

    /// <summary>Tiny Shakespeare's characters from <paramref name="offset"/>, as token ids: real text, as generation sees.</summary>
    private static int[] TextTokens(int offset, int count) =>
        Shakespeare.Tokenizer.Encode(File.ReadAllText(TestModels.TinyShakespeare).Substring(offset, count));

    private static float[] TorchLogits(Gpt model, int[] tokens)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        return model.forward(tensor(tokens.Select(t => (long)t).ToArray()).unsqueeze(0))[0].data<float>().ToArray();
    }

    private static float[] LastTorchLogits(int[] tokens) => TorchLogits(Shakespeare.Model, tokens)[^Vocabulary..];

    private static void AssertClose(float[] expected, float[] actual, string what)
    {
        Assert.HasCount(expected.Length, actual);
        var worst = 0;
        for (var i = 1; i < expected.Length; i++)
        {
            if (Math.Abs(expected[i] - actual[i]) > Math.Abs(expected[worst] - actual[worst]))
                worst = i;
        }

        Assert.IsLessThanOrEqualTo(Tolerance, Math.Abs(expected[worst] - actual[worst]), $"{what}: logit {worst} is {actual[worst]}, TorchSharp's {expected[worst]}");
    }

    private static void AssertSameBits(float[] expected, float[] actual, string what)
    {
        Assert.HasCount(expected.Length, actual);
        for (var i = 0; i < expected.Length; i++)
        {
            if (BitConverter.SingleToInt32Bits(expected[i]) != BitConverter.SingleToInt32Bits(actual[i]))
                Assert.Fail($"{what}: logit {i} is {actual[i]:R}, not {expected[i]:R}");
        }
    }
}
