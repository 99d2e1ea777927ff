using PoolAI.Jobs;

namespace PoolAI.Inference;

/// <summary>One generation for an inference grain.</summary>
/// <param name="Settings">Prompt and sampling settings (already validated).</param>
/// <param name="Attempt">Job attempt number, echoed in every chunk and lease renewal sent to <paramref name="Sink"/>.</param>
/// <param name="Sink">Where partial output and lease renewals go; null to receive only the final result (no lease).</param>
/// <param name="ChunkInterval">Longest time partial output is held before it is sent to the sink.</param>
/// <param name="LeaseInterval">Time between lease renewals; null for the serving silo's default (1 s).</param>
[GenerateSerializer, Immutable, Alias("poolai.GenerationRequest")]
public sealed record GenerationRequest(
    [property: Id(0)] GenerationSettings Settings,
    [property: Id(1)] int Attempt = 0,
    [property: Id(2)] IGenerationSink? Sink = null,
    [property: Id(3)] TimeSpan? ChunkInterval = null,
    [property: Id(4)] TimeSpan? LeaseInterval = null);
