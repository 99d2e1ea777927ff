using PoolAI.Jobs;
using PoolAI.Models;

namespace PoolAI.Tests.Models;

[TestClass]
public sealed class ContinuousBatcherTests
{
    private static LoadedModel Model => TestModels.ShakespeareModel;

    private static GenerationOutcome Alone(GenerationSettings settings) => new TextGenerator(Model).Generate(settings);

    [TestMethod]
    public async Task RequestsJoiningAndLeavingTheBatchEachGiveTheTokensTheyGiveAlone()
    {
        string[] prompts = ["ROMEO:", "KING:", "JULIET:\n", "First Citizen:\n", "O", "HAMLET:", "Thou art", "MENENIUS:\nWhat"];
        float[] temperatures = [0f, 0.5f, 0.8f, 1f, 1.3f];
        int[] topKs = [0, 5, 20];
        float[] topPs = [1f, 0.9f, 0.6f];
        IReadOnlyList<string>?[] stops = [null, ["\n\n"], ["the"], [":", "!"]];
        var requests = Enumerable.Range(0, 12).Select(i => new GenerationSettings(
            prompts[i % prompts.Length], 20 + 19 * i, temperatures[i % temperatures.Length], topKs[i % topKs.Length], topPs[i % topPs.Length], 100 + i, stops[i % stops.Length])).ToArray();
        var expected = requests.Select(Alone).ToArray();
        Assert.IsTrue(expected.Any(e => e.FinishReason == "stop") && expected.Any(e => e.FinishReason == "length"), "the requests should end both ways");

        using var batcher = new ContinuousBatcher(Model, maxBatch: 8);
        var streamed = requests.Select(_ => new System.Text.StringBuilder()).ToArray();
        var tasks = new List<Task<GenerationOutcome>>();
        for (var i = 0; i < requests.Length; i++)
        {
            // The first eight fill the batch together (a decode step takes well under a millisecond, so staggered
            // starts would let the short ones end before the last joins); each of the others joins once the one before
            // it is under way, taking the row of one that has left.
            var underWay = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var text = streamed[i];
            tasks.Add(batcher.GenerateAsync(requests[i], (offset, piece, tokens) =>
            {
                Assert.AreEqual(text.Length, offset);
                text.Append(piece);
                if (tokens >= 3)
                    underWay.TrySetResult();
            }));
            if (i >= batcher.MaxBatch - 1)
                await Task.WhenAny(underWay.Task, tasks[^1]);
        }

        var outcomes = await Task.WhenAll(tasks);
        for (var i = 0; i < requests.Length; i++)
        {
            Assert.AreEqual(expected[i].Text, outcomes[i].Text, $"request {i}");
            Assert.AreEqual(expected[i].Tokens, outcomes[i].Tokens, $"request {i}");
            Assert.AreEqual(expected[i].FinishReason, outcomes[i].FinishReason, $"request {i}");
            Assert.AreEqual(expected[i].Text, streamed[i].ToString(), $"request {i} streamed");
        }

        Assert.AreEqual(8, batcher.Statistics.LargestBatch);
    }

    [TestMethod]
    [DataRow(2)]
    [DataRow(3)]
    [DataRow(5)]
    [DataRow(16)]
    public async Task ARequestGivesTheTokensItGivesAloneInABatchOf(int batchSize)
    {
        // One request that outlives the block (so it is re-prefilled twice in the batch) among others of other lengths
        // and settings: half of them under way before it starts, the rest joining while it runs, each leaving when done,
        // and more of them than rows, so some wait for a row and take it when another leaves.
        var target = TestModels.Settings(prompt: "JULIET:\n", maxTokens: 190, seed: 1234, temperature: 0.9f, topK: 30);
        var others = Enumerable.Range(0, 2 * batchSize).Select(i => TestModels.Settings(
            prompt: i % 2 == 0 ? "KING:" : "First Citizen:\nWe", maxTokens: 15 + 11 * i, seed: 500 + i, temperature: 0.4f + 0.1f * (i % 7), topP: i % 3 == 0 ? 0.8f : 1f)).ToArray();
        var expected = Alone(target).Text;
        var expectedOthers = others.Select(o => Alone(o).Text).ToArray();

        using var batcher = new ContinuousBatcher(Model, maxBatch: batchSize);
        var early = others.Take(batchSize / 2).Select(o => batcher.GenerateAsync(o)).ToList();
        var underWay = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var running = batcher.GenerateAsync(target, (_, _, tokens) =>
        {
            if (tokens >= 10)
                underWay.TrySetResult();
        });
        await Task.WhenAny(underWay.Task, running);
        var late = others.Skip(batchSize / 2).Select(o => batcher.GenerateAsync(o)).ToList();

        Assert.AreEqual(expected, (await running).Text);
        var outcomes = await Task.WhenAll(early.Concat(late));
        for (var i = 0; i < others.Length; i++)
            Assert.AreEqual(expectedOthers[i], outcomes[i].Text, $"request {i} beside it");
        Assert.AreEqual(batchSize, batcher.Statistics.LargestBatch);
    }

    [TestMethod]
    public async Task TheTorchBackendGivesTheTokensItGivesAloneInABatch()
    {
        var requests = Enumerable.Range(0, 3).Select(i => TestModels.Settings(maxTokens: 25 + 10 * i, seed: 70 + i)).ToArray();
        var expected = requests.Select(r => new TextGenerator(Model, DecodeBackend.Torch).Generate(r).Text).ToArray();

        using var batcher = new ContinuousBatcher(Model, maxBatch: 3, DecodeBackend.Torch);
        var outcomes = await Task.WhenAll(requests.Select(r => batcher.GenerateAsync(r)));

        Assert.AreEqual(DecodeEngine.TorchVersion, batcher.DecodeVersion);
        for (var i = 0; i < requests.Length; i++)
            Assert.AreEqual(expected[i], outcomes[i].Text, $"request {i}");
    }

    [TestMethod]
    public async Task ConcurrentRequestsShareDecodePasses()
    {
        using var batcher = new ContinuousBatcher(Model, maxBatch: 16);
        var outcomes = await Task.WhenAll(Enumerable.Range(0, 8).Select(i => batcher.GenerateAsync(TestModels.Settings(maxTokens: 100, seed: i))));

        Assert.IsTrue(outcomes.All(o => o.Tokens == 100));
        var statistics = batcher.Statistics;
        // The first token of each comes from its prefill, so each needs 99 decoded tokens.
        Assert.AreEqual(8 * 99, statistics.DecodedTokens);
        Assert.AreEqual(8, statistics.LargestBatch);
        Assert.IsLessThan(2 * 99, statistics.DecodePasses, $"{statistics.DecodePasses} decode passes for 8 × 99 tokens");
        // Each says how many sequences its passes held on average (rewards compare a batch's throughput, not one row's).
        Assert.IsTrue(outcomes.All(o => o.MeanBatch is > 1 and <= 8), string.Join(", ", outcomes.Select(o => o.MeanBatch)));
        Assert.AreEqual(1.0, (await batcher.GenerateAsync(TestModels.Settings(maxTokens: 20, seed: 99))).MeanBatch, "alone, it shares its passes with no one");
    }

    [TestMethod]
    public async Task CancellingOneRequestLeavesTheOthersExact()
    {
        var requests = Enumerable.Range(0, 4).Select(i => TestModels.Settings(maxTokens: 150, seed: 20 + i, topK: 10)).ToArray();
        var expected = requests.Select(r => Alone(r).Text).ToArray();

        using var batcher = new ContinuousBatcher(Model);
        using var cancellation = new CancellationTokenSource();
        var cancelledAt = 0;
        var tasks = requests.Select((r, i) => i == 1
            ? batcher.GenerateAsync(r, (_, _, tokens) =>
            {
                cancelledAt = tokens;
                if (tokens == 20)
                    cancellation.Cancel();
            }, cancellation.Token)
            : batcher.GenerateAsync(r)).ToArray();

        await Assert.ThrowsAsync<OperationCanceledException>(() => tasks[1]);
        Assert.AreEqual(20, cancelledAt);
        foreach (var i in new[] { 0, 2, 3 })
            Assert.AreEqual(expected[i], (await tasks[i]).Text, $"request {i}");
    }

    [TestMethod]
    public async Task ARequestCancelledWhileWaitingForARowEndsAtOnce()
    {
        using var batcher = new ContinuousBatcher(Model, maxBatch: 1);
        var running = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var release = new CancellationTokenSource();
        var first = batcher.GenerateAsync(TestModels.Settings(maxTokens: 4000), (_, _, _) => running.TrySetResult(), release.Token);
        await running.Task;

        using var cancellation = new CancellationTokenSource();
        var waiting = batcher.GenerateAsync(TestModels.Settings(maxTokens: 10), cancellationToken: cancellation.Token);
        await cancellation.CancelAsync();
        await Assert.ThrowsAsync<OperationCanceledException>(() => waiting);
        Assert.IsFalse(first.IsCompleted, "the running request should still run");

        await release.CancelAsync();
        await Assert.ThrowsAsync<OperationCanceledException>(() => first);
    }

    [TestMethod]
    public async Task SequencesLongerThanTheBlockGiveTheTokensTheyGiveAlone()
    {
        var blockSize = Model.Model.Config.BlockSize;
        var longPrompt = string.Concat(Enumerable.Repeat("To be, or not to be: that is the question. ", 4));
        Assert.IsGreaterThan(blockSize, longPrompt.Length);
        GenerationSettings[] requests =
        [
            TestModels.Settings(maxTokens: blockSize * 2 + 10, seed: 1),
            TestModels.Settings(prompt: longPrompt, maxTokens: blockSize + 5, seed: 2, temperature: 0.6f),
            TestModels.Settings(maxTokens: 40, seed: 3),
        ];
        var expected = requests.Select(r => Alone(r).Text).ToArray();

        using var batcher = new ContinuousBatcher(Model);
        var outcomes = await Task.WhenAll(requests.Select(r => batcher.GenerateAsync(r)));

        for (var i = 0; i < requests.Length; i++)
            Assert.AreEqual(expected[i], outcomes[i].Text, $"request {i}");
    }

    [TestMethod]
    public async Task ACallbackThatThrowsFailsOnlyItsOwnRequest()
    {
        var requests = Enumerable.Range(0, 3).Select(i => TestModels.Settings(maxTokens: 60, seed: 40 + i)).ToArray();
        var expected = requests.Select(r => Alone(r).Text).ToArray();

        using var batcher = new ContinuousBatcher(Model);
        var tasks = requests.Select((r, i) => i == 0
            ? batcher.GenerateAsync(r, (_, _, tokens) =>
            {
                if (tokens == 5)
                    throw new InvalidOperationException("the sink broke");
            })
            : batcher.GenerateAsync(r)).ToArray();

        var error = await Assert.ThrowsExactlyAsync<InvalidOperationException>(() => tasks[0]);
        Assert.AreEqual("the sink broke", error.Message);
        Assert.AreEqual(expected[1], (await tasks[1]).Text);
        Assert.AreEqual(expected[2], (await tasks[2]).Text);
    }

    [TestMethod]
    public void APromptTheTokenizerCannotEncodeIsRefusedAtOnce()
    {
        using var batcher = new ContinuousBatcher(Model);
        var error = Assert.ThrowsExactly<JobValidationException>(() => batcher.GenerateAsync(TestModels.Settings(prompt: "ROMEO: ☃")));
        Assert.AreEqual("prompt", error.Field);
    }

    [TestMethod]
    public async Task ARetiredBatcherFinishesWhatItRunsOnItsWeightsThenClosesToNewRequests()
    {
        // Its own copy of the checkpoint: a batcher that closes frees its model.
        var model = ModelCheckpoint.Load(TestModels.Registry.PathOf(TestModels.Shakespeare));
        using var batcher = new ContinuousBatcher(model, maxBatch: 4);
        var running = TestModels.Settings(maxTokens: 120);
        var waiting = TestModels.Settings(prompt: "KING:", maxTokens: 30);
        var underWay = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var first = batcher.GenerateAsync(running, (_, _, tokens) => underWay.TrySetResult());
        await underWay.Task;
        var second = batcher.GenerateAsync(waiting);

        batcher.Retire();

        Assert.IsTrue(batcher.IsRetired);
        Assert.AreEqual(Alone(running).Text, (await first).Text, "a request running when the batcher retired finishes as it would have");
        Assert.AreEqual(Alone(waiting).Text, (await second).Text, "so does one that was waiting");
        Assert.IsTrue(SpinWait.SpinUntil(() => batcher.IsClosed, TimeSpan.FromSeconds(10)), "with nothing left it closes");
        Assert.ThrowsExactly<ObjectDisposedException>(() => batcher.GenerateAsync(waiting));
    }
}
