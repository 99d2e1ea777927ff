using TorchSharp;
using static TorchSharp.torch;

namespace PoolAI.Models;

/// <summary>
/// The decoding loop that solo generation (<see cref="TextGenerator"/>) and continuous batching
/// (<see cref="ContinuousBatcher"/>) share, so a request gives the same tokens either way. It holds up to
/// <see cref="Capacity"/> sequences, sequence i in row i of one key/value cache. Each <see cref="Step"/> samples every
/// sequence once with its own settings and random source, lets the ended ones go (the last row moves into the freed
/// one), and computes the next logits of all the others in one <see cref="Gpt.Decode"/> pass, each at its own
/// position. A sequence whose cache row is full is instead re-prefilled on its own from the last ¾ block, as
/// <see cref="TextGenerator"/> describes; in the pass it rides along at its next free position and its output is
/// dropped (the next real step overwrites what it wrote there before anything attends to it).
/// <para>
/// Exactness: a prefill always runs one sequence alone, so it is the same computation in any batch; every decode pass
/// has a multiple of <see cref="RowMultiple"/> rows (unused rows are padding at position 0). Measured with libtorch 2.10
/// (MKL) on this project's CPUs, a row of a matrix product comes out bit for bit the same whatever the other rows hold
/// and whatever the row count, as long as the count is 4, 8 or at least 12; with 1–3, 5–7 or 9–11 rows, the rows past
/// the last multiple of 4 are summed in another order, so a lone sequence (1 row) would drift from the same sequence in
/// a batch. Padding a lone sequence to 4 rows costs far less than padding to 12, but about twice an unpadded one-row
/// step (MKL's matrix-vector kernel is much cheaper than its matrix-matrix one at this size): the price of exactness.
/// <c>DecodedRowsDoNotDependOnTheBatch</c> in the tests checks this on the machine that runs them.
/// </para>
/// Not thread-safe: one thread drives it.
/// </summary>
internal sealed class SequenceBatch(Gpt gpt, int capacity) : IDisposable
{
    /// <summary>Every decode pass has a multiple of this many rows (see the remarks on exactness).</summary>
    public const int RowMultiple = 4;

    private readonly KvCache _cache = gpt.CreateCache(PassRows(capacity));
    private readonly List<GenerationSequence> _sequences = [];
    private long _decodePasses;
    private long _decodedRows;

    /// <summary>Most sequences it holds.</summary>
    public int Capacity => capacity;

    /// <summary>Sequences it holds now.</summary>
    public int Count => _sequences.Count;

    /// <summary>Decode passes run so far.</summary>
    public long DecodePasses => Interlocked.Read(ref _decodePasses);

    /// <summary>Sequence tokens those passes computed (padding and riders not counted).</summary>
    public long DecodedRows => Interlocked.Read(ref _decodedRows);

    /// <summary>Prefills <paramref name="sequence"/> into the next free row; it takes part from the next <see cref="Step"/>.</summary>
    /// <exception cref="InvalidOperationException">The batch is full.</exception>
    /// <exception cref="Exception">The prefill failed; the sequence was not admitted.</exception>
    public void Admit(GenerationSequence sequence)
    {
        if (Count >= capacity)
            throw new InvalidOperationException($"the batch holds {capacity} sequences at most");
        sequence.Start();
        sequence.Row = Count;
        Prefill(sequence, gpt.Config.BlockSize);
        _sequences.Add(sequence);
    }

    /// <summary>
    /// Samples one token for every sequence and computes the next logits of those that go on. Returns the sequences
    /// that ended in this step, each with its outcome or error (<see cref="GenerationSequence.Result"/>); the others
    /// are untouched by any one's failure.
    /// </summary>
    public IReadOnlyList<GenerationSequence> Step()
    {
        using var noGrad = torch.no_grad();
        var ended = new List<GenerationSequence>();
        foreach (var sequence in _sequences.ToArray())
        {
            try
            {
                if (!sequence.Advance())
                    continue;
                sequence.Complete();
            }
            catch (Exception error)
            {
                sequence.Fail(error);
            }

            Remove(sequence);
            ended.Add(sequence);
        }

        var decoding = new List<GenerationSequence>(_sequences.Count);
        foreach (var sequence in _sequences.ToArray())
        {
            if (sequence.CacheLength < gpt.Config.BlockSize)
            {
                decoding.Add(sequence);
                continue;
            }

            try
            {
                Prefill(sequence, gpt.Config.BlockSize * 3 / 4);
            }
            catch (Exception error)
            {
                sequence.Fail(error);
                Remove(sequence);
                ended.Add(sequence);
            }
        }

        if (decoding.Count > 0)
            Decode(decoding, ended);
        return ended;
    }

    /// <summary>Takes every sequence out of the batch, ending each with <paramref name="error"/>.</summary>
    public void Abandon(Exception error)
    {
        foreach (var sequence in _sequences)
            sequence.Fail(error);
        _sequences.Clear();
    }

    /// <inheritdoc />
    public void Dispose() => _cache.Dispose();

    private void Prefill(GenerationSequence sequence, int keep)
    {
        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        using var row = _cache.Row(sequence.Row);
        var context = sequence.Context;
        var window = context.Count > keep ? context.GetRange(context.Count - keep, keep) : context;
        var input = tensor(window.Select(t => (long)t).ToArray(), dtype: int64).unsqueeze(0);
        var logits = gpt.Forward(input, row);
        sequence.Logits = logits[0, -1].to(float32).data<float>().ToArray();
        sequence.CacheLength = window.Count;
    }

    private void Decode(List<GenerationSequence> decoding, List<GenerationSequence> ended)
    {
        var rows = PassRows(Count);
        var tokens = new long[rows];
        var positions = new long[rows];
        foreach (var sequence in _sequences)
            positions[sequence.Row] = sequence.CacheLength;
        foreach (var sequence in decoding)
            tokens[sequence.Row] = sequence.Context[^1];
        try
        {
            using var scope = torch.NewDisposeScope();
            var logits = gpt.Decode(tensor(tokens, dtype: int64), tensor(positions, dtype: int64), _cache).to(float32);
            var vocab = (int)logits.shape[1];
            var all = logits.data<float>().ToArray();
            foreach (var sequence in decoding)
            {
                sequence.Logits = all.AsSpan(sequence.Row * vocab, vocab).ToArray();
                sequence.CacheLength++;
            }

            Interlocked.Increment(ref _decodePasses);
            Interlocked.Add(ref _decodedRows, decoding.Count);
        }
        catch (Exception error)
        {
            // The pass is shared, so its failure is every decoding sequence's; re-prefilled ones go on.
            foreach (var sequence in decoding)
            {
                sequence.Fail(error);
                Remove(sequence);
                ended.Add(sequence);
            }
        }
    }

    private static int PassRows(int sequences) => (sequences + RowMultiple - 1) / RowMultiple * RowMultiple;

    /// <summary>Takes <paramref name="sequence"/> out, moving the last sequence into its row so rows stay 0 … Count - 1.</summary>
    private void Remove(GenerationSequence sequence)
    {
        var last = _sequences[^1];
        if (!ReferenceEquals(last, sequence))
        {
            _cache.CopyRow(last.Row, sequence.Row);
            last.Row = sequence.Row;
            _sequences[sequence.Row] = last;
        }

        _sequences.RemoveAt(_sequences.Count - 1);
    }
}
