namespace PoolAI.Decoding;

/// <summary>
/// A decoding backend as the generation loop uses it: a key/value cache of rows (one sequence each), a prefill that
/// fills one row from position 0, and a decoding step over any subset of rows, each at its own position.
/// </summary>
public interface IDecoder
{
    /// <summary>
    /// Names the backend's arithmetic: while it stays the same, the same tokens give the same logits to the bit (so a
    /// seed gives the same text).
    /// </summary>
    string Version { get; }

    /// <summary>Fills cache row <paramref name="row"/> with <c>[T]</c> <paramref name="tokens"/> at positions 0 … T − 1 and writes the last position's <c>[vocab]</c> logits.</summary>
    void Prefill(int row, ReadOnlySpan<int> tokens, Span<float> logits);

    /// <summary>Token <c>tokens[i]</c> at <c>positions[i]</c> of cache row <c>rows[i]</c> for each i; writes <c>[n, vocab]</c> logits.</summary>
    void Decode(ReadOnlySpan<int> rows, ReadOnlySpan<int> tokens, ReadOnlySpan<int> positions, Span<float> logits);

    /// <summary>Copies cache row <paramref name="from"/> into row <paramref name="to"/>.</summary>
    void CopyRow(int from, int to);
}
