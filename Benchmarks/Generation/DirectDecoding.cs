using System.Diagnostics;
using PoolAI.Decoding;
using PoolAI.Models;

namespace PoolAI.Benchmarks;

/// <summary>
/// Tokens/s of the native decoder called directly (no pool, no sampling settings, no streaming): a batch of
/// sequences, each prefilled with the prompt and then decoded one greedy token per step, with the generation loop's
/// schedule (a full cache is prefilled again from the last ¾ block). Measures the arithmetic the pool runs.
/// </summary>
public static class DirectDecoding
{
    /// <summary>Runs the measurement for every batch size and thread count.</summary>
    /// <param name="model">The loaded model.</param>
    /// <param name="prompt">The prompt every sequence starts from.</param>
    /// <param name="tokens">Tokens generated per sequence.</param>
    /// <param name="repeats">Measured runs per case (after one warm-up).</param>
    /// <param name="batches">Sequences decoded together, one case each.</param>
    /// <param name="threads">Decoder thread counts, one case each.</param>
    public static IReadOnlyList<DirectDecodingCase> Run(LoadedModel model, string prompt, int tokens, int repeats, IReadOnlyList<int> batches, IReadOnlyList<int> threads)
    {
        var weights = GptWeights.Of(model.Model);
        var promptTokens = model.Tokenizer.Encode(prompt);
        var cases = new List<DirectDecodingCase>();
        foreach (var threadCount in threads)
        {
            foreach (var batch in batches)
            {
                using var decoder = new NativeDecoder(weights, batch, threads: threadCount);
                Generate(decoder, promptTokens, tokens);
                var rates = new List<double>();
                for (var i = 0; i < repeats; i++)
                {
                    var watch = Stopwatch.StartNew();
                    var generated = Generate(decoder, promptTokens, tokens);
                    rates.Add(generated / watch.Elapsed.TotalSeconds);
                }

                cases.Add(new DirectDecodingCase(batch, threadCount, Summary.Of(rates)));
            }
        }

        return cases;
    }

    /// <summary>Generates <paramref name="tokens"/> tokens in every row of <paramref name="decoder"/>; returns how many in all.</summary>
    private static int Generate(NativeDecoder decoder, int[] prompt, int tokens)
    {
        var rows = decoder.Rows;
        var vocabulary = decoder.Weights.VocabSize;
        var block = decoder.Weights.BlockSize;
        var contexts = Enumerable.Range(0, rows).Select(_ => new List<int>(prompt)).ToArray();
        var lengths = new int[rows];
        var logits = new float[rows * vocabulary];
        for (var row = 0; row < rows; row++)
        {
            decoder.Prefill(row, prompt, logits.AsSpan(row * vocabulary, vocabulary));
            lengths[row] = prompt.Length;
        }

        var next = new int[rows];
        var decoding = new List<int>(rows);
        for (var step = 0; step < tokens; step++)
        {
            for (var row = 0; row < rows; row++)
            {
                next[row] = Sampler.ArgMax(logits.AsSpan(row * vocabulary, vocabulary));
                contexts[row].Add(next[row]);
            }

            if (step == tokens - 1)
                break;
            decoding.Clear();
            for (var row = 0; row < rows; row++)
            {
                if (lengths[row] < block)
                {
                    decoding.Add(row);
                    continue;
                }

                // A full cache is prefilled again, each row on its own, as the pool does.
                var keep = block * 3 / 4;
                decoder.Prefill(row, contexts[row].GetRange(contexts[row].Count - keep, keep).ToArray(), logits.AsSpan(row * vocabulary, vocabulary));
                lengths[row] = keep;
            }

            if (decoding.Count == 0)
                continue;
            var stepLogits = new float[decoding.Count * vocabulary];
            decoder.Decode(decoding.ToArray(), decoding.Select(r => next[r]).ToArray(), decoding.Select(r => lengths[r]).ToArray(), stepLogits);
            for (var i = 0; i < decoding.Count; i++)
            {
                stepLogits.AsSpan(i * vocabulary, vocabulary).CopyTo(logits.AsSpan(decoding[i] * vocabulary, vocabulary));
                lengths[decoding[i]]++;
            }
        }

        return rows * tokens;
    }
}

/// <summary>One case of <see cref="DirectDecoding"/>.</summary>
/// <param name="Batch">Sequences decoded together.</param>
/// <param name="Threads">Decoder threads.</param>
/// <param name="TokensPerSecond">Tokens of all sequences per second, over the repeats.</param>
public sealed record DirectDecodingCase(int Batch, int Threads, Summary TokensPerSecond);
