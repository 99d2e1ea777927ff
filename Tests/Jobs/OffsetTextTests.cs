using PoolAI.Jobs;

namespace PoolAI.Tests.Jobs;

[TestClass]
public sealed class OffsetTextTests
{
    [TestMethod]
    public void PiecesArrivingOutOfOrderAreReleasedInOrder()
    {
        var text = new OffsetText();
        Assert.AreEqual(string.Empty, text.Accept(6, "world"));
        Assert.AreEqual(string.Empty, text.Accept(11, "!"));
        Assert.AreEqual("hello world!", text.Accept(0, "hello "));
        Assert.AreEqual("hello world!", text.ToString());
    }

    [TestMethod]
    public void RepeatedAndOverlappingTextIsTakenOnce()
    {
        var text = new OffsetText();
        Assert.AreEqual("abc", text.Accept(0, "abc"));
        Assert.AreEqual(string.Empty, text.Accept(0, "abc"));
        Assert.AreEqual("de", text.Accept(2, "cde"));
        Assert.AreEqual("abcde", text.ToString());
    }

    [TestMethod]
    public void ResetStartsAgainFromTheGivenText()
    {
        var text = new OffsetText();
        text.Accept(0, "abc");
        text.Accept(9, "zz");
        text.Reset("xy");
        Assert.AreEqual(2, text.Length);
        Assert.AreEqual("z", text.Accept(1, "yz"));
    }
}
