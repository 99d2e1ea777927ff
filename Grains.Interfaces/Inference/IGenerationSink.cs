namespace PoolAI.Inference;

/// <summary>
/// The holder of a job attempt's lease, which receives its partial output while an inference grain generates (a job
/// grain implements it).
/// </summary>
[Alias("poolai.IGenerationSink")]
public interface IGenerationSink : IAddressable
{
    /// <summary>New text; one-way so that streaming never slows generation. Chunks carry offsets because one-way calls may arrive out of order.</summary>
    [OneWay, Alias("OnGenerated")]
    Task OnGeneratedAsync(GenerationChunk chunk);

    /// <summary>
    /// Renews the lease of attempt <paramref name="attempt"/>, which runs on <paramref name="silo"/>. The serving silo
    /// calls it every <see cref="GenerationRequest.LeaseInterval"/> from the moment it takes the request (model loading
    /// included). Returns false when the attempt is no longer current (the job was requeued, cancelled, expired or
    /// finished): the silo then stops generating, so abandoned work never holds a slot.
    /// </summary>
    [Alias("RenewLease")]
    Task<bool> RenewLeaseAsync(int attempt, string silo);

    /// <summary>
    /// Says that <paramref name="silo"/>, stopping gracefully, gives attempt <paramref name="attempt"/> back unfinished.
    /// The serving silo awaits this before it answers the generation call with <see cref="WorkHandedBackException"/>,
    /// because that answer may be lost when the silo stops right after sending it (the caller then sees only
    /// <c>SiloUnavailableException</c>). The holder requeues the job without counting the attempt; a call for an
    /// attempt that is no longer current is ignored.
    /// </summary>
    [Alias("HandBack")]
    Task HandBackAsync(int attempt, string silo);
}
