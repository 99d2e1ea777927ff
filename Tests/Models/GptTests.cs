using PoolAI.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace PoolAI.Tests.Models;

[TestClass]
public sealed class GptTests
{
    private static GptConfig Small => new(VocabSize: 65, BlockSize: 32, Layers: 2, Heads: 2, Embedding: 32);

    [TestMethod]
    public void ForwardMapsTokensToLogitsPerPosition()
    {
        using var model = new Gpt(Small);
        using var tokens = randint(0, 65, [3, 10], dtype: int64);
        using var logits = model.forward(tokens);
        CollectionAssert.AreEqual(new long[] { 3, 10, 65 }, logits.shape);
    }

    [TestMethod]
    public void OutputProjectionIsTiedToTheTokenEmbedding()
    {
        using var model = new Gpt(Small);
        // Tied weights: no separate [vocab, embd] output matrix, so the count is the untied count minus one.
        var expected = 65 * 32 + 32 * 32 + 2 * (2 * 32 + 3 * 32 * 32 + 32 * 32 + 4 * 32 * 32 + 4 * 32 * 32) + 32;
        Assert.AreEqual(expected, model.ParameterCount);
    }

    [TestMethod]
    public void CachedStepsGiveTheSameLogitsAsTheFullForwardPass()
    {
        using var model = new Gpt(Small);
        model.eval();
        using var noGrad = no_grad();
        using var tokens = randint(0, 65, [1, 12], dtype: int64);
        using var full = model.forward(tokens);
        using var cache = model.CreateCache();
        using var prefill = model.Forward(tokens[.., ..5], cache);
        Assert.IsTrue(allclose(prefill, full[.., ..5], rtol: 1e-4, atol: 1e-5));
        for (var position = 5; position < 12; position++)
        {
            using var step = model.Forward(tokens[.., position..(position + 1)], cache);
            Assert.IsTrue(allclose(step[0, 0], full[0, position], rtol: 1e-4, atol: 1e-5), $"position {position}");
        }
    }

    [TestMethod]
    public void ADecodePassGivesEachSequenceTheLogitsOfItsFullForwardPass()
    {
        using var model = new Gpt(Small);
        model.eval();
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var sequences = new[] { randint(0, 65, [1, 4], dtype: int64), randint(0, 65, [1, 9], dtype: int64), randint(0, 65, [1, 1], dtype: int64) };
        using var cache = model.CreateCache(sequences.Length);
        for (var row = 0; row < sequences.Length; row++)
        {
            using var rowCache = cache.Row(row);
            model.Forward(sequences[row][.., ..^1], rowCache);
        }

        var logits = model.Decode(cat(sequences.Select(s => s[.., -1]).ToArray()), tensor(sequences.Select(s => s.shape[1] - 1).ToArray()), cache);
        for (var row = 0; row < sequences.Length; row++)
            Assert.IsTrue(allclose(logits[row], model.forward(sequences[row])[0, -1], rtol: 1e-4, atol: 1e-5), $"row {row}");
    }

    [TestMethod]
    public void DecodedRowsDoNotDependOnTheBatch()
    {
        // The property continuous batching rests on (SequenceBatch pads every pass to a multiple of 4 rows): with the
        // served model's shapes, a sequence's logits are bit for bit the same alone (a pass of 4 rows, 3 of them
        // padding) and in any row of a batch of 7 (padded to 8) or 16 beside other sequences.
        var model = TestModels.ShakespeareModel.Model;
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var prompts = Enumerable.Range(0, 16).Select(i => randint(0, 65, [1, 3 + 5 * i], dtype: int64)).ToArray();
        var sixteen = Decode(Enumerable.Range(0, 16).ToArray(), rows: 16);
        int[] seven = [15, 3, 8, 0, 11, 6, 1];
        var eight = Decode(seven, rows: 8);
        foreach (var sequence in new[] { 0, 3, 15 })
        {
            var alone = Decode([sequence], rows: 4)[0];
            Assert.IsTrue(alone.eq(sixteen[sequence]).all().item<bool>(), $"sequence {sequence} alone differs from the same sequence in a batch of 16");
            Assert.IsTrue(alone.eq(eight[Array.IndexOf(seven, sequence)]).all().item<bool>(), $"sequence {sequence} alone differs from the same sequence in a batch of 7");
        }

        Tensor Decode(int[] sequences, int rows)
        {
            using var cache = model.CreateCache(rows);
            var tokens = new long[rows];
            var positions = new long[rows];
            for (var row = 0; row < sequences.Length; row++)
            {
                var prompt = prompts[sequences[row]];
                using var rowCache = cache.Row(row);
                model.Forward(prompt[.., ..^1], rowCache);
                tokens[row] = prompt[0, -1].item<long>();
                positions[row] = prompt.shape[1] - 1;
            }

            return model.Decode(tensor(tokens), tensor(positions), cache);
        }
    }

    [TestMethod]
    public void LaterPositionsNeverChangeEarlierLogits()
    {
        using var model = new Gpt(Small);
        model.eval();
        using var noGrad = no_grad();
        using var a = tensor(new long[] { 1, 2, 3, 4, 5, 6 }).unsqueeze(0);
        using var b = tensor(new long[] { 1, 2, 3, 9, 9, 9 }).unsqueeze(0);
        using var logitsA = model.forward(a);
        using var logitsB = model.forward(b);
        Assert.IsTrue(allclose(logitsA[.., ..3], logitsB[.., ..3], rtol: 1e-5, atol: 1e-6));
        Assert.IsFalse(allclose(logitsA[.., 3..], logitsB[.., 3..]));
    }

    [TestMethod]
    public void PositionsPastTheBlockSizeAreRefused()
    {
        using var model = new Gpt(Small);
        using var tokens = zeros([1, 33], dtype: int64);
        Assert.ThrowsExactly<ArgumentException>(() => model.forward(tokens));
    }

    [TestMethod]
    public void SavedAndLoadedCheckpointGivesIdenticalLogits()
    {
        var directory = Path.Combine(Path.GetTempPath(), "poolai-test-" + Guid.NewGuid().ToString("N"));
        try
        {
            using var model = new Gpt(Small, seed: 5);
            var config = new CheckpointConfig("tiny", "text", "test", Small, new TokenizerInfo("char", CharTokenizer.FromText(File.ReadAllText(TestModels.TinyShakespeare)).Vocabulary));
            var saved = ModelCheckpoint.Save(directory, model, config);
            Assert.AreEqual(model.ParameterCount, saved.Weights!.Parameters);

            using var loaded = ModelCheckpoint.Load(directory);
            model.eval();
            using var noGrad = no_grad();
            using var tokens = randint(0, 65, [2, 16], dtype: int64);
            using var expected = model.forward(tokens);
            using var actual = loaded.Model.forward(tokens);
            Assert.IsTrue(expected.eq(actual).all().item<bool>(), "logits differ after a save and load");
            Assert.AreEqual(Small, loaded.Model.Config);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [TestMethod]
    public void TamperedWeightsAreRefused()
    {
        var directory = Path.Combine(Path.GetTempPath(), "poolai-test-" + Guid.NewGuid().ToString("N"));
        try
        {
            using var model = new Gpt(Small);
            ModelCheckpoint.Save(directory, model, new CheckpointConfig("tiny", "text", "test", Small, new TokenizerInfo("char", "abc")));
            var weights = Path.Combine(directory, ModelCheckpoint.WeightsFile);
            var bytes = File.ReadAllBytes(weights);
            bytes[^1] ^= 0xFF;
            File.WriteAllBytes(weights, bytes);
            Assert.ThrowsExactly<InvalidDataException>(() => ModelCheckpoint.Load(directory));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
