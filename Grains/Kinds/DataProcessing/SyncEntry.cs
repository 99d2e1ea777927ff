namespace PoolAI.Kinds.DataProcessing;

/// <summary>One file of a volume or object of a bucket as a sync sees it.</summary>
/// <param name="Name">Its path relative to the synced folder (<c>sub/a.bin</c> for <c>data/sub/a.bin</c> under <c>data/</c>).</param>
/// <param name="Length">Bytes.</param>
/// <param name="ETag">Its ETag as the service gave it (quoted or not); null when unknown.</param>
/// <param name="Sha256">SHA-256 of its content, hex; null when unknown (an object without <c>x-amz-meta-sha256</c>, or not asked yet).</param>
public sealed record SyncEntry(string Name, long Length, string? ETag, string? Sha256);
