namespace PoolAI.Inference;

/// <summary>Receives partial output while an inference grain generates (a job grain implements it).</summary>
[Alias("poolai.IGenerationSink")]
public interface IGenerationSink : IAddressable
{
    /// <summary>New text; one-way so that streaming never slows generation. Chunks carry offsets because one-way calls may arrive out of order.</summary>
    [OneWay, Alias("OnGenerated")]
    Task OnGeneratedAsync(GenerationChunk chunk);
}
