using System.Text;
using PoolAI.Jobs;

namespace PoolAI.Models;

/// <summary>
/// Character-level tokenizer: token id i is the i-th character of <see cref="Vocabulary"/> (the
/// sorted distinct characters of the training text, as in nanoGPT's <c>shakespeare_char</c>).
/// </summary>
public sealed class CharTokenizer
{
    private readonly Dictionary<char, int> _ids;

    /// <summary>Creates a tokenizer over <paramref name="vocabulary"/> (distinct characters, in id order).</summary>
    /// <exception cref="ArgumentException">The vocabulary is empty or repeats a character.</exception>
    public CharTokenizer(string vocabulary)
    {
        if (string.IsNullOrEmpty(vocabulary))
            throw new ArgumentException("vocabulary must not be empty", nameof(vocabulary));
        _ids = new Dictionary<char, int>(vocabulary.Length);
        for (var i = 0; i < vocabulary.Length; i++)
        {
            if (!_ids.TryAdd(vocabulary[i], i))
                throw new ArgumentException($"vocabulary repeats '{vocabulary[i]}'", nameof(vocabulary));
        }

        Vocabulary = vocabulary;
    }

    /// <summary>The characters, in token-id order.</summary>
    public string Vocabulary { get; }

    /// <summary>Number of tokens.</summary>
    public int VocabularySize => Vocabulary.Length;

    /// <summary>Builds the vocabulary of <paramref name="text"/>: its distinct characters, sorted by code point.</summary>
    public static CharTokenizer FromText(string text)
    {
        var chars = text.Distinct().Order().ToArray();
        return new CharTokenizer(new string(chars));
    }

    /// <summary>True when every character of <paramref name="text"/> has a token.</summary>
    public bool CanEncode(string text) => text.All(_ids.ContainsKey);

    /// <summary>Returns normally when every character of <paramref name="text"/> has a token.</summary>
    /// <exception cref="JobValidationException">Field <c>prompt</c>: names the characters that have no token.</exception>
    public void EnsureEncodable(string text)
    {
        if (!CanEncode(text))
            throw Unencodable(text);
    }

    /// <summary>Token ids of <paramref name="text"/>, one per character.</summary>
    /// <exception cref="JobValidationException">Field <c>prompt</c>: names the characters that have no token.</exception>
    public int[] Encode(string text)
    {
        var ids = new int[text.Length];
        for (var i = 0; i < text.Length; i++)
        {
            if (!_ids.TryGetValue(text[i], out ids[i]))
                throw Unencodable(text);
        }

        return ids;
    }

    /// <summary>Text of <paramref name="ids"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An id is outside the vocabulary.</exception>
    public string Decode(ReadOnlySpan<int> ids)
    {
        var chars = new char[ids.Length];
        for (var i = 0; i < ids.Length; i++)
        {
            if ((uint)ids[i] >= (uint)Vocabulary.Length)
                throw new ArgumentOutOfRangeException(nameof(ids), $"token id {ids[i]} is outside the vocabulary of {Vocabulary.Length}");
            chars[i] = Vocabulary[ids[i]];
        }

        return new string(chars);
    }

    private JobValidationException Unencodable(string text)
    {
        // Whole code points, so that a character outside the BMP (an emoji) is named, not its two UTF-16 halves.
        var bad = text.EnumerateRunes().Where(r => !r.IsBmp || !_ids.ContainsKey((char)r.Value)).Distinct().Take(10)
            .Select(r => Rune.IsControl(r) || Rune.IsWhiteSpace(r) ? $"U+{r.Value:X4}" : $"'{r}'");
        return new JobValidationException("prompt", $"contains characters the model's tokenizer cannot encode: {string.Join(", ", bad)}");
    }
}
