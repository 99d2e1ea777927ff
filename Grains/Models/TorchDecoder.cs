using PoolAI.Decoding;
using TorchSharp;
using static TorchSharp.torch;

namespace PoolAI.Models;

/// <summary>
/// The TorchSharp decoding backend (<see cref="DecodeBackend.Torch"/>): prefills through <see cref="Gpt.Forward"/>
/// on one cache row, decodes through <see cref="Gpt.Decode"/> over rows 0 … n − 1 of its cache, every pass padded to a
/// multiple of <see cref="RowMultiple"/> rows.
/// <para>
/// Why the padding: measured with libtorch 2.10 (MKL) on this project's CPUs, a row of a matrix product comes out bit
/// for bit the same whatever the other rows hold and whatever the row count, as long as the count is 4, 8 or at least
/// 12; with 1–3, 5–7 or 9–11 rows, the rows past the last multiple of 4 are summed in another order, so a lone sequence
/// would drift from the same sequence in a batch. <c>DecodedRowsDoNotDependOnTheBatch</c> in the tests checks this on
/// the machine that runs them. Rows of the cache that a pass does not decode ride along at their next free position
/// (what they write there is overwritten before anything attends to it) and their output is dropped.
/// </para>
/// </summary>
internal sealed class TorchDecoder : IDecoder, IDisposable
{
    /// <summary>Every decode pass has a multiple of this many rows.</summary>
    public const int RowMultiple = 4;

    private readonly Gpt _gpt;
    private readonly KvCache _cache;
    private readonly int[] _lengths;

    public TorchDecoder(Gpt gpt, int rows)
    {
        _gpt = gpt;
        _cache = gpt.CreateCache(PassRows(rows));
        _lengths = new int[_cache.Batch];
    }

    public string Version => DecodeEngine.TorchVersion;

    public void Prefill(int row, ReadOnlySpan<int> tokens, Span<float> logits)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        using var cache = _cache.Row(row);
        var ids = new long[tokens.Length];
        for (var i = 0; i < ids.Length; i++)
            ids[i] = tokens[i];
        var output = _gpt.Forward(tensor(ids, dtype: int64).unsqueeze(0), cache);
        output[0, -1].to(float32).data<float>().CopyTo(logits);
        _lengths[row] = tokens.Length;
    }

    public void Decode(ReadOnlySpan<int> rows, ReadOnlySpan<int> tokens, ReadOnlySpan<int> positions, Span<float> logits)
    {
        var used = 0;
        foreach (var row in rows)
            used = Math.Max(used, row + 1);
        var passRows = PassRows(used);
        var ids = new long[passRows];
        var at = new long[passRows];
        for (var row = 0; row < passRows; row++)
            at[row] = Math.Min(_lengths[row], _gpt.Config.BlockSize - 1);
        for (var i = 0; i < rows.Length; i++)
        {
            ids[rows[i]] = tokens[i];
            at[rows[i]] = positions[i];
        }

        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var output = _gpt.Decode(tensor(ids, dtype: int64), tensor(at, dtype: int64), _cache).to(float32);
        var vocab = (int)output.shape[1];
        var all = output.data<float>().ToArray();
        for (var i = 0; i < rows.Length; i++)
        {
            all.AsSpan(rows[i] * vocab, vocab).CopyTo(logits.Slice(i * vocab, vocab));
            _lengths[rows[i]] = positions[i] + 1;
        }
    }

    public void CopyRow(int from, int to)
    {
        _cache.CopyRow(from, to);
        _lengths[to] = _lengths[from];
    }

    public void Dispose() => _cache.Dispose();

    private static int PassRows(int rows) => Math.Max(RowMultiple, (rows + RowMultiple - 1) / RowMultiple * RowMultiple);
}
