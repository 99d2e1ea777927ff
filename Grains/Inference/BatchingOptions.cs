using PoolAI.Models;

namespace PoolAI.Inference;

/// <summary>How a serving silo batches generations of one model (bound from <c>PoolAI:Miner:MaxBatch</c>).</summary>
public sealed class BatchingOptions
{
    /// <summary>Most generations of one model that share a decode pass; more wait their turn.</summary>
    public int MaxBatch { get; set; } = ContinuousBatcher.DefaultMaxBatch;
}
