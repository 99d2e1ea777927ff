namespace PoolAI.Jobs;

/// <summary>
/// A change pushed to a job's watchers: new output, progress, a status change, or several. Output arrives as pieces of
/// the job's streamed text, each with its character offset, so a watcher can order them.
/// </summary>
/// <param name="JobId">The job.</param>
/// <param name="Status">Status after this update.</param>
/// <param name="Offset">Character offset of <paramref name="Text"/> within the streamed output.</param>
/// <param name="Text">New streamed text starting at <paramref name="Offset"/>; empty for a pure status or progress change.</param>
/// <param name="Progress">The latest progress; null before any report.</param>
/// <param name="Message">Status message, if any.</param>
[GenerateSerializer, Immutable, Alias("poolai.JobUpdate")]
public sealed record JobUpdate(
    [property: Id(0)] Guid JobId,
    [property: Id(1)] JobStatus Status,
    [property: Id(2)] int Offset,
    [property: Id(3)] string Text,
    [property: Id(6)] JobProgress? Progress,
    [property: Id(5)] string? Message = null);
