using System.Runtime.InteropServices;
using PoolAI.Decoding;

namespace PoolAI.Models;

/// <summary>
/// The decoding loop that solo generation (<see cref="TextGenerator"/>) and continuous batching
/// (<see cref="ContinuousBatcher"/>) share, so a request gives the same tokens either way. It holds up to
/// <see cref="Capacity"/> sequences, sequence i in row i of one decoder's key/value cache. Each <see cref="Step"/> samples
/// every sequence once with its own settings and random source, lets the ended ones go (the last row moves into the
/// freed one), and computes the next logits of all the others in one decoding pass, each at its own position. A sequence
/// whose cache row is full is instead re-prefilled on its own from the last ¾ block, as <see cref="TextGenerator"/>
/// describes.
/// <para>
/// Exactness is the decoder's: with the default <see cref="DecodeBackend.Native"/> every row's logits are the same bits
/// whatever else the pass holds (<see cref="NativeDecoder"/>); <see cref="DecodeBackend.Torch"/> gets there by padding
/// (<see cref="TorchDecoder"/>).
/// </para>
/// Not thread-safe: one thread drives it.
/// </summary>
internal sealed class SequenceBatch : IDisposable
{
    private readonly IDecoder _decoder;
    private readonly int _capacity;
    private readonly int _blockSize;
    private readonly int _vocabulary;
    private readonly List<GenerationSequence> _sequences = [];
    private long _decodePasses;
    private long _decodedRows;

    /// <summary>A batch of up to <paramref name="capacity"/> sequences of <paramref name="model"/>, decoded by <paramref name="backend"/>.</summary>
    public SequenceBatch(LoadedModel model, int capacity, DecodeBackend backend = DecodeBackend.Native)
    {
        _decoder = DecodeEngine.Create(model, capacity, backend);
        _capacity = capacity;
        _blockSize = model.Model.Config.BlockSize;
        _vocabulary = model.Model.Config.VocabSize;
    }

    /// <summary>The arithmetic version of its decoder (<see cref="DecodeEngine.VersionOf"/>).</summary>
    public string DecodeVersion => _decoder.Version;

    /// <summary>Most sequences it holds.</summary>
    public int Capacity => _capacity;

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
        if (Count >= _capacity)
            throw new InvalidOperationException($"the batch holds {_capacity} sequences at most");
        sequence.Start();
        sequence.Row = Count;
        Prefill(sequence, _blockSize);
        _sequences.Add(sequence);
    }

    /// <summary>
    /// Samples one token for every sequence and computes the next logits of those that go on. Returns the sequences
    /// that ended in this step, each with its outcome or error (<see cref="GenerationSequence.Result"/>); the others
    /// are untouched by any one's failure.
    /// </summary>
    public IReadOnlyList<GenerationSequence> Step()
    {
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
            if (sequence.CacheLength < _blockSize)
            {
                decoding.Add(sequence);
                continue;
            }

            try
            {
                Prefill(sequence, _blockSize * 3 / 4);
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
    public void Dispose() => (_decoder as IDisposable)?.Dispose();

    private void Prefill(GenerationSequence sequence, int keep)
    {
        var context = CollectionsMarshal.AsSpan(sequence.Context);
        var window = context.Length > keep ? context[^keep..] : context;
        var logits = new float[_vocabulary];
        _decoder.Prefill(sequence.Row, window, logits);
        sequence.Logits = logits;
        sequence.CacheLength = window.Length;
    }

    private void Decode(List<GenerationSequence> decoding, List<GenerationSequence> ended)
    {
        var rows = new int[decoding.Count];
        var tokens = new int[decoding.Count];
        var positions = new int[decoding.Count];
        for (var i = 0; i < decoding.Count; i++)
        {
            rows[i] = decoding[i].Row;
            tokens[i] = decoding[i].Context[^1];
            positions[i] = decoding[i].CacheLength;
        }

        try
        {
            var logits = new float[decoding.Count * _vocabulary];
            _decoder.Decode(rows, tokens, positions, logits);
            for (var i = 0; i < decoding.Count; i++)
            {
                decoding[i].Logits = logits.AsSpan(i * _vocabulary, _vocabulary).ToArray();
                decoding[i].CacheLength++;
                decoding[i].CountPass(decoding.Count);
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

    /// <summary>Takes <paramref name="sequence"/> out, moving the last sequence into its row so rows stay 0 … Count - 1.</summary>
    private void Remove(GenerationSequence sequence)
    {
        var last = _sequences[^1];
        if (!ReferenceEquals(last, sequence))
        {
            _decoder.CopyRow(last.Row, sequence.Row);
            last.Row = sequence.Row;
            _sequences[sequence.Row] = last;
        }

        _sequences.RemoveAt(_sequences.Count - 1);
    }
}
