namespace PoolAI.Jobs;

/// <summary>
/// How far a running job has got, in one shape for every kind: <paramref name="Step"/> of <paramref name="Total"/>
/// <paramref name="Unit"/>s (tokens generated of max tokens, training steps of all steps, bytes of a file), a line for
/// people, and kind-specific figures.
/// </summary>
/// <param name="Step">Units done so far, at least 0.</param>
/// <param name="Total">Units in all, when known.</param>
/// <param name="Unit">What is counted, plural: <c>tokens</c>, <c>steps</c>, <c>bytes</c>, <c>items</c>.</param>
/// <param name="Message">A line for people (e.g. <c>evaluating</c>); null for none.</param>
/// <param name="Metrics">Kind-specific figures by name with their unit in the name (<c>loss</c>, <c>tokens_per_s</c>,
/// <c>lr</c>); null for none.</param>
/// <param name="Preview">An artifact showing the work so far (a partial image, say); null for none.</param>
[GenerateSerializer, Immutable, Alias("poolai.JobProgress")]
public sealed record JobProgress(
    [property: Id(0)] long Step,
    [property: Id(1)] long? Total,
    [property: Id(2)] string Unit,
    [property: Id(3)] string? Message = null,
    [property: Id(4)] IReadOnlyDictionary<string, double>? Metrics = null,
    [property: Id(5)] ArtifactRef? Preview = null)
{
    /// <summary>Fraction done in [0, 1] when the total is known and positive; null otherwise.</summary>
    public double? Fraction => Total is > 0 and var total ? Math.Clamp(Step / (double)total, 0, 1) : null;
}
