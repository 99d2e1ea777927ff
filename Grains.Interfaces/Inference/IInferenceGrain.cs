using PoolAI.Jobs;

namespace PoolAI.Inference;

/// <summary>
/// Serves one model, keyed by model id. A stateless worker: each silo that advertises the model in
/// its silo metadata runs local activations that share one loaded copy of the model; a silo that
/// does not advertise it never activates it (placement filter <c>ServesModelFilter</c>).
/// </summary>
[Alias("poolai.IInferenceGrain")]
public interface IInferenceGrain : IGrainWithStringKey
{
    /// <summary>Generates text for <paramref name="request"/>, streaming partial output to its sink.</summary>
    /// <exception cref="JobValidationException">The prompt has characters the model cannot encode.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> fired; stops within one token.</exception>
    [Alias("Generate"), ResponseTimeout("01:00:00")]
    Task<JobResult> GenerateAsync(GenerationRequest request, CancellationToken cancellationToken = default);

    /// <summary>Where this activation runs and what it loaded: for placement checks and the admin page.</summary>
    [Alias("Describe")]
    Task<InferenceHostInfo> DescribeAsync();
}

/// <summary>Facts about a serving activation.</summary>
/// <param name="Model">Model id.</param>
/// <param name="Silo">Address of the hosting silo.</param>
/// <param name="Parameters">Number of weights of the loaded model.</param>
/// <param name="Device">Torch device, <c>cpu</c> or <c>cuda</c>.</param>
[GenerateSerializer, Immutable, Alias("poolai.InferenceHostInfo")]
public sealed record InferenceHostInfo(
    [property: Id(0)] string Model,
    [property: Id(1)] string Silo,
    [property: Id(2)] long Parameters,
    [property: Id(3)] string Device);
