namespace PoolAI.Jobs;

/// <summary>
/// A change pushed to a job's watchers: new output, a status change, or both. Output arrives as
/// pieces of the generated text, each with its character offset, so a watcher can order them.
/// </summary>
/// <param name="JobId">The job.</param>
/// <param name="Status">Status after this update.</param>
/// <param name="Offset">Character offset of <paramref name="Text"/> within the generated text.</param>
/// <param name="Text">New generated text starting at <paramref name="Offset"/>; empty for a pure status change.</param>
/// <param name="TokensGenerated">Tokens generated so far.</param>
/// <param name="Message">Status message, if any.</param>
[GenerateSerializer, Immutable, Alias("poolai.JobUpdate")]
public sealed record JobUpdate(
    [property: Id(0)] Guid JobId,
    [property: Id(1)] JobStatus Status,
    [property: Id(2)] int Offset,
    [property: Id(3)] string Text,
    [property: Id(4)] int TokensGenerated,
    [property: Id(5)] string? Message = null);
