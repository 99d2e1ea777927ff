namespace PoolAI.Models;

/// <summary>
/// Copies volume files into the models directory of one silo (key: the silo's address, as <see cref="SiloAddress.ToString"/>
/// writes it; the grain is activated on that silo), so that a checkpoint published to a volume becomes a model the
/// silo's registry knows. Used by the <c>mirror</c> system task.
/// </summary>
[Alias("poolai.IModelMirrorGrain")]
public interface IModelMirrorGrain : IGrainWithStringKey
{
    /// <summary>
    /// Streams file <paramref name="path"/> of volume <paramref name="volume"/> into this silo's models directory
    /// (<c>…/MODEL/FILE</c> → <c>MODELS/MODEL/FILE</c>), hashing it as it goes; only when its SHA-256 equals the one the
    /// volume recorded is it renamed over the target (an earlier copy stays until then), and the registry is read
    /// again; a miner that serves every model in its registry then serves the model too, and the pool learns so before
    /// this returns. Failures are reported in the result, not thrown.
    /// </summary>
    [Alias("Mirror"), ResponseTimeout("1.00:00:00")]
    Task<ModelMirrorResult> MirrorAsync(string volume, string path);
}

/// <summary>What one silo made of a mirrored file.</summary>
/// <param name="Silo">The silo's address.</param>
/// <param name="Worker">Its worker id, when it has one.</param>
/// <param name="Model">The model the file belongs to (the folder that holds it).</param>
/// <param name="Path">Where it was written on the silo's disk (absolute).</param>
/// <param name="Bytes">Bytes copied.</param>
/// <param name="Sha256">SHA-256 of the bytes copied, 64 lower-case hex digits (empty when nothing was read).</param>
/// <param name="Sha256Ok">True when it equals the SHA-256 the volume recorded for the file and the file is in place.</param>
/// <param name="Registered">True when the silo's registry knows the model after the copy (its folder holds <c>config.json</c>).</param>
/// <param name="Error">Why the copy failed, or why the registry could not read the model's config; null when neither.</param>
/// <param name="Served">True when the silo serves the model after the copy (it serves every model in its registry, or its configured list names this one); false on a coordinator.</param>
[GenerateSerializer, Immutable, Alias("poolai.ModelMirrorResult")]
public sealed record ModelMirrorResult(
    [property: Id(0)] string Silo,
    [property: Id(1)] string? Worker,
    [property: Id(2)] string Model,
    [property: Id(3)] string Path,
    [property: Id(4)] long Bytes,
    [property: Id(5)] string Sha256,
    [property: Id(6)] bool Sha256Ok,
    [property: Id(7)] bool Registered,
    [property: Id(8)] string? Error,
    [property: Id(9)] bool Served = false);
