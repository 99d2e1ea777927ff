using PoolAI.Jobs;
using PoolAI.Models;

namespace PoolAI.Tests.Models;

[TestClass]
public sealed class CharTokenizerTests
{
    [TestMethod]
    public void ShakespeareRoundTripsThroughTheTokenizer()
    {
        var text = File.ReadAllText(TestModels.TinyShakespeare);
        var tokenizer = CharTokenizer.FromText(text);
        Assert.AreEqual(65, tokenizer.VocabularySize);
        var sample = text[..5000];
        Assert.AreEqual(sample, tokenizer.Decode(tokenizer.Encode(sample)));
    }

    [TestMethod]
    public void VocabularyIsTheSortedDistinctCharacters()
    {
        var tokenizer = CharTokenizer.FromText("banana!");
        Assert.AreEqual("!abn", tokenizer.Vocabulary);
        CollectionAssert.AreEqual(new[] { 2, 1, 3, 2, 0 }, tokenizer.Encode("banb!"));
    }

    [TestMethod]
    public void UnknownCharacterNamesThePromptField()
    {
        var tokenizer = CharTokenizer.FromText("abc");
        var error = Assert.ThrowsExactly<JobValidationException>(() => tokenizer.Encode("ab\tz"));
        Assert.AreEqual("prompt", error.Field);
        Assert.AreEqual("contains characters the model's tokenizer cannot encode: U+0009, 'z'", error.Rule);
    }

    [TestMethod]
    public void CharactersOutsideTheBasicPlaneAreNamedWhole()
    {
        var error = Assert.ThrowsExactly<JobValidationException>(() => CharTokenizer.FromText("abc").Encode("a😀b"));
        Assert.AreEqual("contains characters the model's tokenizer cannot encode: '😀'", error.Rule);
    }

    [TestMethod]
    public void DecodingAnIdOutsideTheVocabularyFails() =>
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => CharTokenizer.FromText("abc").Decode([3]));
}
