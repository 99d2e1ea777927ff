namespace PoolAI.Models;

/// <summary>
/// Picks the next token from logits: temperature scaling, then top-k, then top-p (nucleus sampling,
/// Holtzman et al., "The Curious Case of Neural Text Degeneration", ICLR 2020), then a draw from
/// the renormalised distribution. Temperature 0 is greedy decoding (arg-max, lowest id on ties).
/// Runs on the CPU in double precision, so the same logits, settings and random state always give
/// the same token.
/// </summary>
public static class Sampler
{
    /// <summary>Samples one token id.</summary>
    /// <param name="logits">One score per vocabulary entry.</param>
    /// <param name="temperature">At least 0; 0 is greedy.</param>
    /// <param name="topK">Keep only this many most likely tokens; 0 keeps all.</param>
    /// <param name="topP">Keep the smallest most-likely set whose probability reaches this; in (0, 1].</param>
    /// <param name="random">Random source; exactly one draw is taken unless greedy.</param>
    public static int Sample(ReadOnlySpan<float> logits, float temperature, int topK, float topP, SplitMix64 random)
    {
        if (logits.IsEmpty)
            throw new ArgumentException("logits must not be empty", nameof(logits));
        if (temperature == 0)
            return ArgMax(logits);

        // Order ids by logit (descending, then id) once; top-k and top-p are prefixes of this order.
        var order = new int[logits.Length];
        for (var i = 0; i < order.Length; i++)
            order[i] = i;
        var scores = logits.ToArray();
        Array.Sort(order, (a, b) => scores[b] != scores[a] ? scores[b].CompareTo(scores[a]) : a.CompareTo(b));

        var keep = topK > 0 ? Math.Min(topK, order.Length) : order.Length;
        var max = scores[order[0]] / (double)temperature;
        var probabilities = new double[keep];
        var total = 0.0;
        for (var i = 0; i < keep; i++)
        {
            probabilities[i] = Math.Exp(scores[order[i]] / (double)temperature - max);
            total += probabilities[i];
        }

        if (topP < 1)
        {
            var cumulative = 0.0;
            for (var i = 0; i < keep; i++)
            {
                cumulative += probabilities[i] / total;
                if (cumulative >= topP)
                {
                    keep = i + 1;
                    break;
                }
            }

            total = 0;
            for (var i = 0; i < keep; i++)
                total += probabilities[i];
        }

        var draw = random.NextDouble() * total;
        for (var i = 0; i < keep; i++)
        {
            draw -= probabilities[i];
            if (draw < 0)
                return order[i];
        }

        return order[keep - 1];
    }

    /// <summary>Index of the largest logit; the lowest index on ties.</summary>
    public static int ArgMax(ReadOnlySpan<float> logits)
    {
        var best = 0;
        for (var i = 1; i < logits.Length; i++)
        {
            if (logits[i] > logits[best])
                best = i;
        }

        return best;
    }
}
