using Microsoft.Extensions.Options;
using Orleans.Placement;
using PoolAI.Placement;

namespace PoolAI.Rewards;

/// <summary>The pool's recent throughput for one model on one device class (key <c>MODEL/DEVICE</c>), for the speed factor.</summary>
[Alias("poolai.IThroughputMedianGrain")]
public interface IThroughputMedianGrain : IGrainWithStringKey
{
    /// <summary>
    /// The median tokens/s of the last <see cref="RewardOptions.MedianWindow"/> jobs before this one (0 while fewer than
    /// <see cref="RewardOptions.MinMedianSamples"/> are known); then records <paramref name="tokensPerSecond"/>.
    /// </summary>
    [Alias("Observe")]
    Task<double> ObserveAsync(double tokensPerSecond);
}

/// <summary>
/// Keeps a sliding window of recent throughputs in memory on a coordinator; a restart starts it empty (speed factors
/// are 1 until <see cref="RewardOptions.MinMedianSamples"/> jobs are seen again).
/// </summary>
[CoordinatorFilter]
[Immovable(ImmovableKind.Rebalancer)] // its samples are in memory only; migrating would reset the speed factor's median
public sealed class ThroughputMedianGrain(IOptions<RewardOptions> options) : Grain, IThroughputMedianGrain
{
    private readonly Queue<double> _window = new();

    /// <summary>Key of the grain for a model on a device class.</summary>
    public static string Key(string model, string device) => $"{model}/{device}";

    /// <inheritdoc />
    public Task<double> ObserveAsync(double tokensPerSecond)
    {
        var median = _window.Count >= options.Value.MinMedianSamples ? Median(_window) : 0;
        if (tokensPerSecond > 0 && double.IsFinite(tokensPerSecond))
        {
            _window.Enqueue(tokensPerSecond);
            while (_window.Count > options.Value.MedianWindow)
                _window.Dequeue();
        }

        return Task.FromResult(median);
    }

    /// <summary>The median of <paramref name="values"/> (mean of the middle two for an even count); 0 when empty.</summary>
    public static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        if (sorted.Length == 0)
            return 0;
        var mid = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }
}
