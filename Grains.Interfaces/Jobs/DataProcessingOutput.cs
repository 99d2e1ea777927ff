namespace PoolAI.Jobs;

/// <summary>What a <see cref="JobKind.DataProcessing"/> job did. For <see cref="DataOperations.Sync"/>: how many source files were copied or found already on the target, how many target files were deleted, and the bytes.</summary>
/// <param name="Operation">The operation that ran.</param>
/// <param name="Summary">One line for people, e.g. <c>push sync-src:data/ → http://host/s3 sync-dst/mirror/: 3 copied (1.2 MiB), 1 skipped, 0 deleted</c>.</param>
/// <param name="Files">Source files under the source folder (copied plus skipped).</param>
/// <param name="Copied">Files copied because the target lacked them or held other content.</param>
/// <param name="Skipped">Files left alone because the target already held the same content.</param>
/// <param name="Deleted">Target files deleted because the source lacks them (only with <see cref="DataProcessingInput.Delete"/>).</param>
/// <param name="BytesCopied">Bytes of the copied files.</param>
/// <param name="BytesSkipped">Bytes of the skipped files.</param>
/// <param name="Refused">Source objects that were not copied, with why (a key that cannot be a volume path), at most 100; empty when none.</param>
[GenerateSerializer, Immutable, Alias("poolai.DataProcessingOutput")]
public sealed record DataProcessingOutput(
    [property: Id(0)] string Operation,
    [property: Id(1)] string Summary,
    [property: Id(2)] int Files,
    [property: Id(3)] int Copied,
    [property: Id(4)] int Skipped,
    [property: Id(5)] int Deleted,
    [property: Id(6)] long BytesCopied,
    [property: Id(7)] long BytesSkipped,
    [property: Id(8)] IReadOnlyList<string> Refused) : IJobOutput
{
    /// <summary>Most entries of <see cref="Refused"/>.</summary>
    public const int MaxRefusedListed = 100;
}
