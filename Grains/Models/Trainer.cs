using System.Diagnostics;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace PoolAI.Models;

/// <summary>
/// Trains a <see cref="Gpt"/> on a <see cref="TextCorpus"/>: AdamW with decoupled weight decay
/// (Loshchilov and Hutter, 2019) on matrices only, warm-up then cosine learning-rate decay, global
/// gradient-norm clipping, and periodic validation loss on the whole held-out split.
/// </summary>
public static class Trainer
{
    /// <summary>Runs <see cref="TrainingOptions.Steps"/> optimizer steps.</summary>
    /// <param name="model">Model to train in place.</param>
    /// <param name="corpus">Tokenized text with its train/validation split.</param>
    /// <param name="options">Hyper-parameters.</param>
    /// <param name="progress">Receives a report after every step (and validation losses when measured).</param>
    /// <param name="cancellationToken">Checked before every step.</param>
    /// <returns>Final losses (nats per token), wall time and throughput.</returns>
    public static TrainingRun Train(Gpt model, TextCorpus corpus, TrainingOptions options, IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var blockSize = model.Config.BlockSize;
        var random = new SplitMix64(options.Seed);
        var named = model.named_parameters().ToList();
        // nanoGPT: decay every weight of 2 or more dimensions (matmuls, embeddings), not biases or norms.
        var decay = named.Where(p => p.parameter.dim() >= 2).Select(p => p.parameter).ToList();
        var noDecay = named.Where(p => p.parameter.dim() < 2).Select(p => p.parameter).ToList();
        using var optimizer = optim.AdamW(
            [
                new AdamW.ParamGroup(decay, new AdamW.Options { weight_decay = options.WeightDecay }),
                new AdamW.ParamGroup(noDecay, new AdamW.Options { weight_decay = 0.0 }),
            ],
            lr: options.LearningRate, beta1: options.Beta1, beta2: options.Beta2);

        var stopwatch = Stopwatch.StartNew();
        double? lastValidation = null;
        var smoothedLoss = double.NaN;
        var tokensPerStep = (double)options.BatchSize * blockSize;
        model.train();
        for (var step = 0; step < options.Steps; step++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var lr = options.LearningRateAt(step);
            foreach (var group in optimizer.ParamGroups)
                group.LearningRate = lr;

            double loss;
            using (var scope = NewDisposeScope())
            {
                var (inputs, targets) = corpus.SampleTrainBatch(options.BatchSize, blockSize, random);
                var logits = model.forward(inputs);
                var lossTensor = F.cross_entropy(logits.view(-1, logits.shape[2]), targets.view(-1));
                optimizer.zero_grad();
                lossTensor.backward();
                if (options.GradClip > 0)
                    nn.utils.clip_grad_norm_(model.parameters(), options.GradClip);
                optimizer.step();
                loss = lossTensor.item<float>();
            }

            smoothedLoss = double.IsNaN(smoothedLoss) ? loss : 0.9 * smoothedLoss + 0.1 * loss;
            var done = step + 1;
            if (done % options.EvalInterval == 0 || done == options.Steps)
            {
                lastValidation = Evaluate(model, corpus);
                model.train();
            }

            var elapsed = stopwatch.Elapsed;
            var tokensPerSecond = done * tokensPerStep / Math.Max(1e-9, elapsed.TotalSeconds);
            var remaining = TimeSpan.FromSeconds(elapsed.TotalSeconds / done * (options.Steps - done));
            progress?.Report(new TrainingProgress(done, options.Steps, loss, smoothedLoss, lastValidation, lr, tokensPerSecond, elapsed, remaining));
        }

        stopwatch.Stop();
        var validation = lastValidation ?? Evaluate(model, corpus);
        var train = Evaluate(model, corpus, validation: false, maxTokens: corpus.ValidationTokens);
        model.eval();
        return new TrainingRun(train, validation, stopwatch.Elapsed, options.Steps * tokensPerStep / stopwatch.Elapsed.TotalSeconds);
    }

    /// <summary>
    /// Mean cross-entropy in nats per token over the validation split (or the first
    /// <paramref name="maxTokens"/> training tokens), in consecutive windows of the block size.
    /// </summary>
    public static double Evaluate(Gpt model, TextCorpus corpus, bool validation = true, int maxTokens = int.MaxValue, int batch = 32)
    {
        var wasTraining = model.training;
        model.eval();
        try
        {
            using var noGrad = no_grad();
            var total = 0.0;
            long count = 0;
            var blockSize = model.Config.BlockSize;
            var batches = validation ? corpus.ValidationBatches(batch, blockSize) : corpus.TrainBatches(batch, blockSize, maxTokens);
            foreach (var (inputs, targets) in batches)
            {
                using var scope = NewDisposeScope();
                var logits = model.forward(inputs);
                var loss = F.cross_entropy(logits.view(-1, logits.shape[2]), targets.view(-1), reduction: nn.Reduction.Sum);
                total += loss.item<float>();
                count += targets.numel();
                inputs.Dispose();
                targets.Dispose();
            }

            return total / Math.Max(1, count);
        }
        finally
        {
            if (wasTraining)
                model.train();
        }
    }
}

/// <summary>A report after a training step.</summary>
/// <param name="Step">Steps done.</param>
/// <param name="TotalSteps">Steps planned.</param>
/// <param name="Loss">This step's training loss (nats/token).</param>
/// <param name="SmoothedLoss">Exponential moving average of the training loss (α = 0.1).</param>
/// <param name="ValidationLoss">Last measured validation loss, if any yet.</param>
/// <param name="LearningRate">Learning rate of this step.</param>
/// <param name="TokensPerSecond">Training tokens per second so far.</param>
/// <param name="Elapsed">Time since the first step.</param>
/// <param name="Remaining">Estimated time to the last step.</param>
public sealed record TrainingProgress(int Step, int TotalSteps, double Loss, double SmoothedLoss, double? ValidationLoss, double LearningRate, double TokensPerSecond, TimeSpan Elapsed, TimeSpan Remaining);

/// <summary>The outcome of a training run.</summary>
/// <param name="TrainLoss">Loss on the first training tokens (as many as the validation split has).</param>
/// <param name="ValidationLoss">Loss on the whole validation split.</param>
/// <param name="Elapsed">Wall time of the steps.</param>
/// <param name="TokensPerSecond">Training throughput.</param>
public sealed record TrainingRun(double TrainLoss, double ValidationLoss, TimeSpan Elapsed, double TokensPerSecond);
