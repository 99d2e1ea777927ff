namespace PoolAI.Models;

/// <summary>How a serving silo decodes generations (bound from <c>PoolAI:Miner:Decoder</c>).</summary>
public sealed class DecodingOptions
{
    /// <summary>
    /// The arithmetic of every model this silo serves. Every miner of a pool should use the same: the backends give
    /// different text for the same seed, and verification compares the text of two miners.
    /// </summary>
    public DecodeBackend Backend { get; set; } = DecodeBackend.Native;
}
