namespace PoolAI.Inference;

/// <summary>A piece of generated text on its way from an inference grain to the job that asked for it.</summary>
/// <param name="Attempt">Attempt number of the job this chunk belongs to; chunks of an older attempt are dropped.</param>
/// <param name="Offset">Character offset of <paramref name="Text"/> in the generated text.</param>
/// <param name="Text">The new text.</param>
/// <param name="TokensGenerated">Tokens generated so far, including this chunk's.</param>
/// <param name="Silo">Address of the silo generating it.</param>
[GenerateSerializer, Immutable, Alias("poolai.GenerationChunk")]
public sealed record GenerationChunk(
    [property: Id(0)] int Attempt,
    [property: Id(1)] int Offset,
    [property: Id(2)] string Text,
    [property: Id(3)] int TokensGenerated,
    [property: Id(4)] string? Silo = null);
