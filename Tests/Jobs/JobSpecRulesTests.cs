using PoolAI.Jobs;
using PoolAI.Kinds.Text;

namespace PoolAI.Tests.Jobs;

[TestClass]
public sealed class JobSpecRulesTests
{
    private static readonly TextGenerationKind Text = new(JobKind.TextGeneration, TestModels.Registry);

    private static JobValidationException Broken(GenerationSettings settings) =>
        Assert.ThrowsExactly<JobValidationException>(() => Text.Validate(JobSpec.TextGeneration(TestModels.Shakespeare, settings)));

    [TestMethod]
    public void EmptyPromptIsRefused()
    {
        var error = Broken(TestModels.Settings(prompt: ""));
        Assert.AreEqual("prompt", error.Field);
        Assert.AreEqual("must not be empty", error.Rule);
    }

    [TestMethod]
    [DataRow(0)]
    [DataRow(-5)]
    [DataRow(4097)]
    public void MaxTokensOutOfRangeIsRefused(int maxTokens)
    {
        var error = Broken(TestModels.Settings(maxTokens: maxTokens));
        Assert.AreEqual("max_tokens", error.Field);
        Assert.AreEqual($"must be between 1 and 4096, was {maxTokens}", error.Rule);
    }

    [TestMethod]
    public void NegativeTemperatureIsRefused()
    {
        var error = Broken(TestModels.Settings(temperature: -0.5f));
        Assert.AreEqual("temperature", error.Field);
        Assert.AreEqual("must be at least 0, was -0.5", error.Rule);
    }

    [TestMethod]
    [DataRow(0f)]
    [DataRow(-0.1f)]
    [DataRow(1.01f)]
    public void TopPOutsideZeroToOneIsRefused(float topP)
    {
        var error = Broken(TestModels.Settings(topP: topP));
        Assert.AreEqual("top_p", error.Field);
        StringAssert.StartsWith(error.Rule, "must be in (0, 1]");
    }

    [TestMethod]
    public void EdgeValuesAreAccepted()
    {
        Text.Validate(JobSpec.TextGeneration(TestModels.Shakespeare, TestModels.Settings(maxTokens: 1, temperature: 0f, topP: 1f)));
        Text.Validate(JobSpec.TextGeneration(TestModels.Shakespeare, TestModels.Settings(maxTokens: 4096, topP: 0.0001f)));
    }

    [TestMethod]
    public void UnknownModelIsRefusedNamingTheKnownOnes()
    {
        var error = Assert.ThrowsExactly<JobValidationException>(() => Text.Validate(JobSpec.TextGeneration("gpt-17", TestModels.Settings())));
        Assert.AreEqual("model", error.Field);
        StringAssert.StartsWith(error.Rule, "unknown model 'gpt-17'; known models: ");
        StringAssert.Contains(error.Rule, TestModels.Shakespeare);
    }

    [TestMethod]
    public void PromptCharactersOutsideTheVocabularyAreRefusedByName()
    {
        var error = Assert.ThrowsExactly<JobValidationException>(() => Text.Validate(JobSpec.TextGeneration(TestModels.Shakespeare, TestModels.Settings(prompt: "ROMEO: 5 € é"))));
        Assert.AreEqual("prompt", error.Field);
        Assert.AreEqual("contains characters the model's tokenizer cannot encode: '5', '€', 'é'", error.Rule);
    }

    [TestMethod]
    public void ACodeJobOnATextModelIsRefusedNamingTheModel()
    {
        var error = Assert.ThrowsExactly<JobValidationException>(() =>
            new TextGenerationKind(JobKind.CodeGeneration, TestModels.Registry).Validate(new JobSpec(JobKind.CodeGeneration, TestModels.Shakespeare, TestModels.Settings())));
        Assert.AreEqual("model", error.Field);
        Assert.AreEqual("'shakespeare-char' is a text model, not a code model", error.Rule);
    }

    [TestMethod]
    public void AnInputOfAnotherKindIsRefusedNamingTheInput()
    {
        var error = Assert.ThrowsExactly<JobValidationException>(() => Text.Validate(new JobSpec(JobKind.TextGeneration, TestModels.Shakespeare, new SystemTaskInput())));
        Assert.AreEqual("input", error.Field);
        Assert.AreEqual("must be a GenerationSettings for TextGeneration jobs; was a SystemTaskInput", error.Rule);
        Assert.AreEqual("input", Assert.ThrowsExactly<JobValidationException>(() => Text.Validate(new JobSpec(JobKind.TextGeneration, TestModels.Shakespeare))).Field);
    }

    [TestMethod]
    public void RequirementsInJsonHoldWhatWasAskedAndNotTheDerivedIsEmpty()
    {
        var json = System.Text.Json.JsonSerializer.Serialize(new JobRequirements(Device: "cpu", MinMemoryMb: 100),
            new System.Text.Json.JsonSerializerOptions { PropertyNamingPolicy = System.Text.Json.JsonNamingPolicy.SnakeCaseLower });
        Assert.AreEqual("{\"device\":\"cpu\",\"min_memory_mb\":100,\"min_gpu_memory_mb\":0}", json);
    }
}
