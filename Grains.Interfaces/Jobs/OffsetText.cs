using System.Text;

namespace PoolAI.Jobs;

/// <summary>
/// Reassembles generated text that arrives in pieces, each carrying its character offset (one-way
/// messages may be reordered or repeated): a piece past the end waits until the text before it is
/// known; overlapping or repeated text is taken once.
/// </summary>
public sealed class OffsetText
{
    private readonly StringBuilder _text = new();
    private readonly SortedDictionary<int, string> _early = [];

    /// <summary>Characters known contiguously from offset 0.</summary>
    public int Length => _text.Length;

    /// <summary>Places <paramref name="piece"/> at <paramref name="offset"/>; returns the text that became contiguous (possibly empty).</summary>
    public string Accept(int offset, string piece)
    {
        if (piece.Length == 0)
            return string.Empty;
        if (offset > _text.Length)
        {
            _early[offset] = piece;
            return string.Empty;
        }

        var start = _text.Length;
        Take(offset, piece);
        while (_early.Count > 0 && _early.First() is var next && next.Key <= _text.Length)
        {
            _early.Remove(next.Key);
            Take(next.Key, next.Value);
        }

        return _text.ToString(start, _text.Length - start);
    }

    /// <summary>Forgets everything and starts again from <paramref name="text"/>.</summary>
    public void Reset(string text = "")
    {
        _text.Clear().Append(text);
        _early.Clear();
    }

    /// <summary>The contiguous text.</summary>
    public override string ToString() => _text.ToString();

    private void Take(int offset, string piece)
    {
        var overlap = _text.Length - offset;
        if (overlap < piece.Length)
            _text.Append(piece, overlap, piece.Length - overlap);
    }
}
