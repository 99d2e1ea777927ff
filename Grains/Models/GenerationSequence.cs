using System.Diagnostics;
using System.Runtime.ExceptionServices;
using System.Text;
using PoolAI.Jobs;

namespace PoolAI.Models;

/// <summary>
/// One request's generation as it goes through a <see cref="SequenceBatch"/>: its context, random source and text, and
/// the rules that turn sampled tokens into streamed text (stop sequences held back until they cannot match, a stop
/// ends the text before it, at most <see cref="GenerationSettings.MaxTokens"/> tokens). The batch feeds it logits; it
/// never touches the model.
/// </summary>
internal sealed class GenerationSequence
{
    private readonly GenerationSettings _settings;
    private readonly CharTokenizer _tokenizer;
    private readonly Action<int, string, int>? _onText;
    private readonly SplitMix64 _random;
    private readonly IReadOnlyList<string> _stops;
    private readonly int _holdBack;
    private readonly StringBuilder _text = new();
    private readonly Stopwatch _stopwatch = new();
    private int _emitted;
    private int _tokens;
    private long _passes;
    private long _passRows;
    private string _finish = "length";
    private GenerationOutcome? _outcome;
    private ExceptionDispatchInfo? _error;

    /// <exception cref="JobValidationException">The prompt has characters the tokenizer cannot encode.</exception>
    public GenerationSequence(LoadedModel model, GenerationSettings settings, Action<int, string, int>? onText, CancellationToken cancellationToken)
    {
        _settings = settings;
        _tokenizer = model.Tokenizer;
        _onText = onText;
        CancellationToken = cancellationToken;
        var prompt = _tokenizer.Encode(settings.Prompt);
        _random = new SplitMix64(settings.Seed);
        _stops = settings.Stop ?? [];
        _holdBack = _stops.Count == 0 ? 0 : _stops.Max(s => s.Length) - 1;
        Context = new List<int>(prompt.Length + settings.MaxTokens);
        Context.AddRange(prompt);
    }

    /// <summary>Prompt and generated tokens so far.</summary>
    public List<int> Context { get; }

    /// <summary>Checked before every token.</summary>
    public CancellationToken CancellationToken { get; }

    /// <summary>Row of the batch's cache that holds it.</summary>
    public int Row { get; set; }

    /// <summary>Positions of its cache row filled.</summary>
    public int CacheLength { get; set; }

    /// <summary>Scores of the next token, one per vocabulary entry.</summary>
    public float[] Logits { get; set; } = [];

    /// <summary>Counts a decode pass that computed this sequence's next logits together with <paramref name="rows"/> sequences in all.</summary>
    public void CountPass(int rows)
    {
        _passes++;
        _passRows += rows;
    }

    /// <summary>Starts the clock of <see cref="GenerationOutcome.Elapsed"/> (prefill included).</summary>
    public void Start() => _stopwatch.Start();

    /// <summary>
    /// Samples one token from <see cref="Logits"/> and streams the text that can no longer become a stop sequence.
    /// Returns true when the sequence is done (a stop sequence, or the last token); call <see cref="Complete"/> then.
    /// </summary>
    /// <exception cref="OperationCanceledException">Cancelled.</exception>
    public bool Advance()
    {
        if (_tokens >= _settings.MaxTokens)
            return true;
        CancellationToken.ThrowIfCancellationRequested();
        var next = Sampler.Sample(Logits, _settings.Temperature, _settings.TopK, _settings.TopP, _random);
        _tokens++;
        Context.Add(next);
        _text.Append(_tokenizer.Decode([next]));

        var stopAt = FindStop(_text, _stops, _emitted);
        if (stopAt >= 0)
        {
            _text.Length = stopAt;
            _finish = "stop";
            return true;
        }

        var safe = _text.Length - _holdBack;
        if (safe > _emitted)
        {
            _onText?.Invoke(_emitted, _text.ToString(_emitted, safe - _emitted), _tokens);
            _emitted = safe;
        }

        return _tokens == _settings.MaxTokens;
    }

    /// <summary>Streams what was held back and records the outcome.</summary>
    public void Complete()
    {
        if (_text.Length > _emitted)
            _onText?.Invoke(_emitted, _text.ToString(_emitted, _text.Length - _emitted), _tokens);
        _stopwatch.Stop();
        _outcome = new GenerationOutcome(_text.ToString(), _tokens, _finish, _stopwatch.Elapsed, _passes == 0 ? 1 : _passRows / (double)_passes);
    }

    /// <summary>Records why it ended without an outcome.</summary>
    public void Fail(Exception error) => _error ??= ExceptionDispatchInfo.Capture(error);

    /// <summary>The outcome.</summary>
    /// <exception cref="Exception">Whatever ended it early, rethrown as it was (<see cref="OperationCanceledException"/> when cancelled).</exception>
    public GenerationOutcome Result()
    {
        _error?.Throw();
        return _outcome ?? throw new InvalidOperationException("the generation has not ended");
    }

    /// <summary>Start of the first stop sequence in <paramref name="text"/> that ends after <paramref name="from"/>, or -1.</summary>
    /// <remarks>Only the unemitted tail can hold a new stop (text before it was checked on earlier steps), so only the tail is copied.</remarks>
    private static int FindStop(StringBuilder text, IReadOnlyList<string> stops, int from)
    {
        if (stops.Count == 0)
            return -1;
        var start = Math.Max(0, from - stops.Max(s => s.Length) + 1);
        var tail = text.ToString(start, text.Length - start);
        var best = -1;
        foreach (var stop in stops)
        {
            var at = tail.IndexOf(stop, StringComparison.Ordinal);
            if (at >= 0 && (best < 0 || at < best))
                best = at;
        }

        return best < 0 ? -1 : start + best;
    }
}
