namespace PoolAI.Models;

/// <summary>
/// Hyper-parameters of <see cref="Trainer"/>. Defaults are nanoGPT's <c>train_shakespeare_char</c>
/// optimiser settings (AdamW β = (0.9, 0.99), weight decay 0.1, clip 1.0, lr 1e-3 → 1e-4, 100 warm-up steps).
/// </summary>
public sealed record TrainingOptions
{
    /// <summary>Optimizer steps.</summary>
    public int Steps { get; init; } = 2000;

    /// <summary>Sequences per step.</summary>
    public int BatchSize { get; init; } = 12;

    /// <summary>Peak learning rate, reached after warm-up.</summary>
    public double LearningRate { get; init; } = 1e-3;

    /// <summary>Learning rate at and after <see cref="DecaySteps"/>.</summary>
    public double MinLearningRate { get; init; } = 1e-4;

    /// <summary>Steps of linear warm-up from 0.</summary>
    public int WarmupSteps { get; init; } = 100;

    /// <summary>Step at which the cosine decay reaches <see cref="MinLearningRate"/>.</summary>
    public int DecaySteps { get; init; } = 2000;

    /// <summary>AdamW weight decay, applied to matrices and embeddings only (not to biases and norms).</summary>
    public double WeightDecay { get; init; } = 0.1;

    /// <summary>AdamW β1.</summary>
    public double Beta1 { get; init; } = 0.9;

    /// <summary>AdamW β2.</summary>
    public double Beta2 { get; init; } = 0.99;

    /// <summary>Largest global gradient norm; 0 turns clipping off.</summary>
    public double GradClip { get; init; } = 1.0;

    /// <summary>Validation loss is measured every this many steps (and at the end).</summary>
    public int EvalInterval { get; init; } = 250;

    /// <summary>Seed of initialisation and batch sampling.</summary>
    public long Seed { get; init; } = 1337;

    /// <summary>
    /// Learning rate at <paramref name="step"/> (0-based): linear warm-up, then cosine decay to the
    /// minimum (nanoGPT <c>train.py</c> <c>get_lr</c>; cosine schedule from Loshchilov and Hutter, SGDR, 2017).
    /// </summary>
    public double LearningRateAt(int step)
    {
        if (step < WarmupSteps)
            return LearningRate * (step + 1) / (WarmupSteps + 1);
        if (step > DecaySteps)
            return MinLearningRate;
        var ratio = (double)(step - WarmupSteps) / Math.Max(1, DecaySteps - WarmupSteps);
        var coefficient = 0.5 * (1.0 + Math.Cos(Math.PI * ratio));
        return MinLearningRate + coefficient * (LearningRate - MinLearningRate);
    }
}
