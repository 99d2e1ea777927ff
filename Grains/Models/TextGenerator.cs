using System.Diagnostics;
using System.Text;
using PoolAI.Jobs;
using TorchSharp;
using static TorchSharp.torch;

namespace PoolAI.Models;

/// <summary>
/// Autoregressive generation with a key/value cache: the prompt is fed once (prefill), then one
/// token per step. Sampling follows <see cref="Sampler"/> with a <see cref="SplitMix64"/> seeded by
/// the request, so the same model, prompt, settings and seed always give the same text.
/// <para>
/// Context longer than the block size: the prompt keeps its last <c>block_size</c> tokens; when
/// generation fills the cache, it is rebuilt from the last ¾ of the block (one prefill per ¼ block
/// of new tokens), so positions stay within the range the model was trained on.
/// </para>
/// </summary>
public sealed class TextGenerator(LoadedModel model)
{
    /// <summary>The model it runs.</summary>
    public LoadedModel Model { get; } = model;

    /// <summary>Generates text for <paramref name="settings"/>.</summary>
    /// <param name="settings">Validated settings (see <see cref="JobSpecRules"/>).</param>
    /// <param name="onText">Receives each piece of final text in order with its character offset and the tokens generated so far; text that could still become a stop sequence is held back until it cannot.</param>
    /// <param name="cancellationToken">Checked before every token.</param>
    /// <exception cref="JobValidationException">The prompt has characters the tokenizer cannot encode.</exception>
    /// <exception cref="OperationCanceledException">Cancelled.</exception>
    public GenerationOutcome Generate(GenerationSettings settings, Action<int, string, int>? onText = null, CancellationToken cancellationToken = default)
    {
        var tokenizer = Model.Tokenizer;
        var gpt = Model.Model;
        var prompt = tokenizer.Encode(settings.Prompt);
        var blockSize = gpt.Config.BlockSize;
        var random = new SplitMix64(settings.Seed);
        var stops = settings.Stop ?? [];
        var holdBack = stops.Count == 0 ? 0 : stops.Max(s => s.Length) - 1;
        var context = new List<int>(prompt.Length + settings.MaxTokens);
        context.AddRange(prompt);
        var text = new StringBuilder();
        var emitted = 0;
        var tokens = 0;
        var finish = "length";
        var stopwatch = Stopwatch.StartNew();

        using var noGrad = torch.no_grad();
        using var cache = gpt.CreateCache();
        var logits = Prefill(gpt, cache, context, blockSize);
        while (tokens < settings.MaxTokens)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var next = Sampler.Sample(logits, settings.Temperature, settings.TopK, settings.TopP, random);
            tokens++;
            context.Add(next);
            text.Append(tokenizer.Decode([next]));

            var stopAt = FindStop(text, stops, emitted);
            if (stopAt >= 0)
            {
                text.Length = stopAt;
                finish = "stop";
                break;
            }

            var safe = text.Length - holdBack;
            if (safe > emitted)
            {
                onText?.Invoke(emitted, text.ToString(emitted, safe - emitted), tokens);
                emitted = safe;
            }

            if (tokens == settings.MaxTokens)
                break;
            logits = cache.Length < blockSize
                ? Step(gpt, cache, next)
                : Prefill(gpt, cache, context, blockSize * 3 / 4);
        }

        if (text.Length > emitted)
            onText?.Invoke(emitted, text.ToString(emitted, text.Length - emitted), tokens);
        stopwatch.Stop();
        return new GenerationOutcome(text.ToString(), tokens, finish, stopwatch.Elapsed);
    }

    private static float[] Prefill(Gpt gpt, KvCache cache, List<int> context, int keep)
    {
        using var scope = torch.NewDisposeScope();
        cache.Reset();
        var window = context.Count > keep ? context.GetRange(context.Count - keep, keep) : context;
        var input = tensor(window.Select(t => (long)t).ToArray(), dtype: int64).unsqueeze(0);
        var logits = gpt.Forward(input, cache);
        return logits[0, -1].to(float32).data<float>().ToArray();
    }

    private static float[] Step(Gpt gpt, KvCache cache, int token)
    {
        using var scope = torch.NewDisposeScope();
        var input = tensor(new long[] { token }, dtype: int64).unsqueeze(0);
        var logits = gpt.Forward(input, cache);
        return logits[0, -1].to(float32).data<float>().ToArray();
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

/// <summary>What one generation produced.</summary>
/// <param name="Text">Generated text without the prompt and without the stop sequence.</param>
/// <param name="Tokens">Tokens sampled.</param>
/// <param name="FinishReason"><c>stop</c> or <c>length</c>.</param>
/// <param name="Elapsed">Wall time of the generation (prefill included).</param>
public sealed record GenerationOutcome(string Text, int Tokens, string FinishReason, TimeSpan Elapsed);
