using System.Security.Cryptography;
using Orleans.Placement;
using PoolAI.Libraries;
using PoolAI.Placement;
using PoolAI.Volumes;

namespace PoolAI.Models;

/// <summary>
/// Mirrors volume files into the models directory of the silo it lives on (see <see cref="IModelMirrorGrain"/>),
/// activated there by <see cref="SiloPinnedPlacementAttribute"/>. The bytes go straight from the stores to this silo's
/// disk, a megabyte at a time, into a temporary file beside the target. Then the registry is read again; on a miner
/// the models it serves are read again too (<see cref="ServedModels"/>, which re-registers the worker when they
/// changed), and the silo's copy of the worker board is refreshed, so placement here sees what the miners serve now.
/// </summary>
[SiloPinnedPlacement]
[Immovable] // it writes to the disk of the silo it lives on
public sealed class ModelMirrorGrain(ModelRegistry registry, ILocalSiloDetails silo, LocalSiloMetadata metadata, WorkerAvailability availability, IServiceProvider services) : Grain, IModelMirrorGrain
{
    private const int BufferBytes = 1 << 20;

    /// <inheritdoc />
    public async Task<ModelMirrorResult> MirrorAsync(string volume, string path)
    {
        var name = silo.SiloAddress.ToString();
        var worker = metadata.Values.GetValueOrDefault(PoolKeys.WorkerMetadata);
        string model, target;
        try
        {
            (model, var file) = MirroredModels.Target(path);
            target = Path.GetFullPath(Path.Combine(registry.Directory, model, file));
        }
        catch (Exception e)
        {
            return new ModelMirrorResult(name, worker, string.Empty, string.Empty, 0, string.Empty, false, false, e.Message);
        }

        var temporary = Path.Combine(Path.GetDirectoryName(target)!, MirroredModels.TemporaryPrefix + Guid.NewGuid().ToString("N"));
        long bytes = 0;
        var sha256 = string.Empty;
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            await using var read = await new VolumeClient(GrainFactory).OpenReadAsync(volume, path);
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            await using (var output = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, BufferBytes, FileOptions.Asynchronous))
            {
                var buffer = new byte[BufferBytes];
                int count;
                while ((count = await read.ReadAsync(buffer)) > 0)
                {
                    hash.AppendData(buffer, 0, count);
                    await output.WriteAsync(buffer.AsMemory(0, count));
                    bytes += count;
                }

                output.Flush(flushToDisk: true);
            }

            sha256 = Convert.ToHexStringLower(hash.GetHashAndReset());
            if (sha256 != read.File.Sha256)
            {
                File.Delete(temporary);
                return new ModelMirrorResult(name, worker, model, target, bytes, sha256, false, registry.Contains(model),
                    $"the copy's SHA-256 {sha256} differs from the {(read.File.Sha256.Length == 0 ? "none" : read.File.Sha256)} the volume recorded; the file was not replaced");
            }

            File.Move(temporary, target, overwrite: true);
        }
        catch (Exception e)
        {
            if (File.Exists(temporary))
                File.Delete(temporary);
            return new ModelMirrorResult(name, worker, model, target, bytes, sha256, false, registry.Contains(model), $"{e.GetType().Name}: {e.Message}");
        }

        var problem = registry.Refresh().FirstOrDefault(p => p.StartsWith(model + ":", StringComparison.Ordinal));
        var served = services.GetService(typeof(ServedModels)) as ServedModels;
        try
        {
            if (served is not null)
                await served.RefreshAsync();
            await availability.RefreshAsync();
        }
        catch (Exception e)
        {
            problem = (problem is null ? "" : problem + "; ") + $"the pool could not be told what this silo serves now ({e.GetType().Name}: {e.Message}); it learns at the worker's next registration";
        }

        return new ModelMirrorResult(name, worker, model, target, bytes, sha256, true, registry.Contains(model), problem, served?.Current.Contains(model, StringComparer.Ordinal) ?? false);
    }
}
