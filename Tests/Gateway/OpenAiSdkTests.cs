using System.ClientModel;
using System.ClientModel.Primitives;
using System.Text.Json;
using OpenAI;
using OpenAI.Chat;
using PoolAI.Jobs;
using PoolAI.Models;

namespace PoolAI.Tests.Gateway;

/// <summary>
/// The official OpenAI .NET SDK against a running gateway, configured only with the gateway's URL and a PoolAI API
/// key: each answer is exactly the text the model gives for that prompt, settings and seed in-process.
/// </summary>
[TestClass]
[DoNotParallelize]
public sealed class OpenAiSdkTests
{
    private static GatewayFixture _gateway = null!;
    private static OpenAIClient _client = null!;

    [ClassInitialize]
    public static async Task StartAsync(TestContext _)
    {
        _gateway = await GatewayFixture.StartAsync();
        var key = await _gateway.KeyAsync("developer");
        _client = new OpenAIClient(new ApiKeyCredential(key), new OpenAIClientOptions { Endpoint = new Uri(_gateway.BaseAddress, "v1") });
    }

    [ClassCleanup]
    public static async Task StopAsync() => await _gateway.DisposeAsync();

    private static string Expected(string prompt, int maxTokens, float temperature, long seed) =>
        new TextGenerator(TestModels.ShakespeareModel).Generate(new GenerationSettings(prompt, maxTokens, temperature, 0, 1f, seed)).Text;

    [TestMethod]
    public async Task ListsTheModels()
    {
        var models = await _client.GetOpenAIModelClient().GetModelsAsync();
        CollectionAssert.Contains(models.Value.Select(m => m.Id).ToList(), TestModels.Shakespeare);
        Assert.AreEqual("poolai", models.Value.Single(m => m.Id == TestModels.Shakespeare).OwnedBy);
    }

    [TestMethod]
    public async Task ChatCompletionIsTheTextOfItsSeed()
    {
        var chat = _client.GetChatClient(TestModels.Shakespeare);
#pragma warning disable OPENAI001 // Seed is marked experimental in the SDK
        var options = new ChatCompletionOptions { MaxOutputTokenCount = 40, Temperature = 0.8f, Seed = 11 };
#pragma warning restore OPENAI001
        var completion = await chat.CompleteChatAsync([new UserChatMessage("ROMEO:")], options);

        Assert.AreEqual(Expected("ROMEO:\n\n", 40, 0.8f, 11), completion.Value.Content[0].Text);
        Assert.AreEqual(ChatFinishReason.Length, completion.Value.FinishReason);
        Assert.AreEqual(40, completion.Value.Usage.OutputTokenCount);
        Assert.AreEqual(8, completion.Value.Usage.InputTokenCount);
    }

    [TestMethod]
    public async Task StreamedChatCompletionIsTheTextOfItsSeed()
    {
        var chat = _client.GetChatClient(TestModels.Shakespeare);
#pragma warning disable OPENAI001
        var options = new ChatCompletionOptions { MaxOutputTokenCount = 120, Temperature = 0.8f, Seed = 12 };
#pragma warning restore OPENAI001
        var text = new System.Text.StringBuilder();
        var updates = 0;
        ChatFinishReason? finish = null;
        await foreach (var update in chat.CompleteChatStreamingAsync([new SystemChatMessage("KING HENRY V:"), new UserChatMessage("Once more unto the breach")], options))
        {
            updates++;
            foreach (var part in update.ContentUpdate)
                text.Append(part.Text);
            finish ??= update.FinishReason;
        }

        Assert.AreEqual(Expected("KING HENRY V:\n\nOnce more unto the breach\n\n", 120, 0.8f, 12), text.ToString());
        Assert.AreEqual(ChatFinishReason.Length, finish);
        Assert.IsTrue(updates >= 3, $"{updates} updates: not streamed");
    }

    /// <summary>The .NET SDK has no public client for the legacy completions endpoint; its pipeline (with its auth) sends the request.</summary>
    [TestMethod]
    public async Task TextCompletionIsTheTextOfItsSeed()
    {
        var pipeline = _client.GetChatClient(TestModels.Shakespeare).Pipeline;
        using var message = pipeline.CreateMessage();
        message.Request.Method = "POST";
        message.Request.Uri = new Uri(_gateway.BaseAddress, "v1/completions");
        message.Request.Headers.Set("Content-Type", "application/json");
        message.Request.Content = BinaryContent.Create(BinaryData.FromObjectAsJson(new { model = TestModels.Shakespeare, prompt = "JULIET:", max_tokens = 50, temperature = 0.5, seed = 13, stop = "\n\n" }));
        await pipeline.SendAsync(message);

        Assert.AreEqual(200, message.Response!.Status, message.Response.Content.ToString());
        var body = JsonDocument.Parse(message.Response.Content.ToString()).RootElement;
        var expected = new TextGenerator(TestModels.ShakespeareModel).Generate(new GenerationSettings("JULIET:", 50, 0.5f, 0, 1f, 13, ["\n\n"]));
        Assert.AreEqual("text_completion", body.GetProperty("object").GetString());
        Assert.AreEqual(expected.Text, body.GetProperty("choices")[0].GetProperty("text").GetString());
        Assert.AreEqual(expected.FinishReason, body.GetProperty("choices")[0].GetProperty("finish_reason").GetString());
    }

    [TestMethod]
    public async Task AnUnknownModelIsAClientErrorTheSdkReports()
    {
        var error = await Assert.ThrowsExactlyAsync<ClientResultException>(() => _client.GetChatClient("no-such-model").CompleteChatAsync([new UserChatMessage("hi")]));
        Assert.AreEqual(404, error.Status);
        StringAssert.Contains(error.Message, "no-such-model");
    }
}
