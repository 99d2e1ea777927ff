using PoolAI.Models;

namespace PoolAI.Tests.Models;

[TestClass]
public sealed class TrainerTests
{
    [TestMethod]
    public void AFewTrainingStepsLowerTheLoss()
    {
        var text = File.ReadAllText(TestModels.TinyShakespeare);
        var tokenizer = CharTokenizer.FromText(text);
        var corpus = new TextCorpus(text[..200_000], tokenizer);
        using var model = new Gpt(new GptConfig(tokenizer.VocabularySize, BlockSize: 32, Layers: 2, Heads: 2, Embedding: 64));
        var before = Trainer.Evaluate(model, corpus);
        // Untrained, the model is close to uniform over 65 characters: ln 65 = 4.17 nats.
        Assert.AreEqual(Math.Log(65), before, 0.1);

        var reports = new List<TrainingProgress>();
        var run = Trainer.Train(model, corpus, new TrainingOptions { Steps = 60, BatchSize = 8, WarmupSteps = 5, DecaySteps = 60, LearningRate = 3e-3, EvalInterval = 30 }, new Recorder(reports));

        Assert.IsTrue(run.ValidationLoss < before - 1.0, $"validation loss {run.ValidationLoss:F3} did not fall by 1 nat from {before:F3}");
        Assert.AreEqual(60, reports.Count);
        Assert.AreEqual(60, reports[^1].Step);
        Assert.IsNotNull(reports[29].ValidationLoss);
        Assert.IsTrue(reports.All(r => r.TokensPerSecond > 0));
    }

    [TestMethod]
    public void LearningRateWarmsUpThenDecaysByCosineToTheMinimum()
    {
        var options = new TrainingOptions { LearningRate = 1e-3, MinLearningRate = 1e-4, WarmupSteps = 100, DecaySteps = 2000 };
        Assert.AreEqual(1e-3 * 1 / 101, options.LearningRateAt(0), 1e-12);
        Assert.AreEqual(1e-3, options.LearningRateAt(100), 1e-12);
        Assert.AreEqual(1e-4 + 0.5 * (1e-3 - 1e-4), options.LearningRateAt(1050), 1e-12);
        Assert.AreEqual(1e-4, options.LearningRateAt(2000), 1e-12);
        Assert.AreEqual(1e-4, options.LearningRateAt(5000), 1e-12);
    }

    [TestMethod]
    public void CorpusSplitsNinetyTenInTextOrder()
    {
        var text = File.ReadAllText(TestModels.TinyShakespeare);
        var corpus = new TextCorpus(text, CharTokenizer.FromText(text));
        Assert.AreEqual(1_003_854, corpus.TrainTokens);
        Assert.AreEqual(111_540, corpus.ValidationTokens);
    }

    private sealed class Recorder(List<TrainingProgress> reports) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => reports.Add(value);
    }
}
