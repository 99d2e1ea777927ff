using PoolAI.Models;

namespace PoolAI.Tests.Models;

[TestClass]
public sealed class TextGeneratorTests
{
    private static TextGenerator Generator => new(TestModels.ShakespeareModel);

    [TestMethod]
    public void SameSeedAndSettingsGiveTheSameText()
    {
        var first = Generator.Generate(TestModels.Settings(maxTokens: 120, seed: 7));
        var second = Generator.Generate(TestModels.Settings(maxTokens: 120, seed: 7));
        Assert.AreEqual(first.Text, second.Text);
        Assert.AreEqual(120, first.Text.Length);
        Assert.AreEqual(120, first.Tokens);
        Assert.AreEqual("length", first.FinishReason);
    }

    [TestMethod]
    public void DifferentSeedsGiveDifferentText() =>
        Assert.AreNotEqual(Generator.Generate(TestModels.Settings(maxTokens: 80, seed: 1)).Text, Generator.Generate(TestModels.Settings(maxTokens: 80, seed: 2)).Text);

    [TestMethod]
    public void GreedyDecodingWithTheCacheMatchesRecomputingTheWholeContext()
    {
        var model = TestModels.ShakespeareModel;
        var generated = Generator.Generate(TestModels.Settings(prompt: "KING:", maxTokens: 30, temperature: 0f)).Text;

        var context = model.Tokenizer.Encode("KING:").ToList();
        using var noGrad = TorchSharp.torch.no_grad();
        for (var i = 0; i < 30; i++)
        {
            using var input = TorchSharp.torch.tensor(context.Select(t => (long)t).ToArray()).unsqueeze(0);
            using var logits = model.Model.forward(input);
            context.Add(Sampler.ArgMax(logits[0, -1].data<float>().ToArray()));
        }

        Assert.AreEqual(model.Tokenizer.Decode(context.Skip(5).ToArray()), generated);
    }

    [TestMethod]
    public void StreamedPiecesAddUpToTheTextInOrder()
    {
        var pieces = new List<(int Offset, string Text)>();
        var outcome = Generator.Generate(TestModels.Settings(maxTokens: 60), (offset, text, _) => pieces.Add((offset, text)));
        Assert.AreEqual(outcome.Text, string.Concat(pieces.Select(p => p.Text)));
        var expectedOffset = 0;
        foreach (var (offset, text) in pieces)
        {
            Assert.AreEqual(expectedOffset, offset);
            expectedOffset += text.Length;
        }
    }

    [TestMethod]
    public void StopSequenceEndsGenerationAndIsNotReturnedOrStreamed()
    {
        var free = Generator.Generate(TestModels.Settings(maxTokens: 300, seed: 3)).Text;
        var stop = free.Substring(40, 3);
        var expected = free[..free.IndexOf(stop, StringComparison.Ordinal)];
        var streamed = new System.Text.StringBuilder();
        var outcome = Generator.Generate(TestModels.Settings(maxTokens: 300, seed: 3, stop: [stop]), (_, text, _) => streamed.Append(text));
        Assert.AreEqual(expected, outcome.Text);
        Assert.AreEqual("stop", outcome.FinishReason);
        Assert.AreEqual(expected, streamed.ToString());
    }

    [TestMethod]
    public void GenerationLongerThanTheBlockKeepsGoing()
    {
        var blockSize = TestModels.ShakespeareModel.Model.Config.BlockSize;
        var outcome = Generator.Generate(TestModels.Settings(maxTokens: blockSize * 2 + 10));
        Assert.AreEqual(blockSize * 2 + 10, outcome.Text.Length);
    }

    [TestMethod]
    public void CancellationStopsGeneration()
    {
        using var cancellation = new CancellationTokenSource();
        var tokens = 0;
        Assert.ThrowsExactly<OperationCanceledException>(() => Generator.Generate(TestModels.Settings(maxTokens: 4000), (_, _, n) =>
        {
            tokens = n;
            if (n == 10)
                cancellation.Cancel();
        }, cancellation.Token));
        Assert.AreEqual(10, tokens);
    }
}
