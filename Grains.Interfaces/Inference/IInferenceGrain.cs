using PoolAI.Jobs;

namespace PoolAI.Inference;

/// <summary>
/// Serves one model. A stateless worker: each silo that advertises the model in its silo metadata runs local
/// activations that share one loaded copy of the model; a silo that does not advertise it never activates it
/// (placement filter <c>ServesModelFilter</c>). Keyed by <see cref="InferenceKeys"/>: <c>MODEL</c> lets placement pick
/// any serving silo; <c>MODEL@SILO</c> pins the call to that silo, which is how job queues place work on the silo
/// whose slot they reserved.
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

/// <summary>Keys of <see cref="IInferenceGrain"/>: a model id, optionally pinned to one silo.</summary>
public static class InferenceKeys
{
    /// <summary>Separates the model id from the silo in a pinned key.</summary>
    public const char SiloSeparator = '@';

    /// <summary>The key that serves <paramref name="model"/> on the silo written <paramref name="silo"/> (<see cref="SiloAddress.ToString"/>).</summary>
    public static string Pinned(string model, string silo) => $"{model}{SiloSeparator}{silo}";

    /// <summary>Splits a key into its model id and, when pinned, its silo.</summary>
    public static (string Model, string? Silo) Parse(string key)
    {
        var at = key.IndexOf(SiloSeparator, StringComparison.Ordinal);
        return at < 0 ? (key, null) : (key[..at], key[(at + 1)..]);
    }
}
