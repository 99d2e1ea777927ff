using System.Security.Cryptography;
using PoolAI.Jobs;

namespace PoolAI.Volumes;

/// <summary>Multipart uploads: parts are ordinary writes staged under an upload; completing it makes the file their concatenation, metadata only.</summary>
public sealed partial class VolumeGrain
{
    /// <summary>Most parts of one upload (as S3).</summary>
    public const int MaxParts = 10_000;

    /// <inheritdoc />
    public async Task<Guid> CreateUploadAsync(string path)
    {
        _ = Volume;
        path = VolumeNames.CheckPath(path);
        var upload = Guid.NewGuid();
        S.Uploads[upload] = new UploadState { Path = path, Created = clock.GetUtcNow() };
        await _writes.WriteAsync();
        return upload;
    }

    /// <inheritdoc />
    public async Task StagePartAsync(Guid upload, int part, Guid write, FileCommit commit)
    {
        var volume = Volume;
        var target = Upload(upload);
        if (part is < 1 or > MaxParts)
            throw new JobValidationException("part", $"must be 1 to {MaxParts} (got {part})");
        if (!S.Pending.TryGetValue(write, out var pending))
            throw new JobValidationException("write", $"write {write:N} is unknown or expired");
        if (pending.Path != target.Path)
            throw new JobValidationException("upload", $"upload {upload:N} is for '{target.Path}', not '{pending.Path}'");
        VolumeRules.CheckCommit(volume.Layout, volume.ShardBytes, commit, volume.ShardsToStore);
        S.Pending.Remove(write);
        if (target.Parts.TryGetValue(part, out var earlier))
            AddGarbage([earlier.Extent]);
        target.Parts[part] = new FileExtentPart(new FileExtent(write, commit.Length, commit.Stripes), commit.Sha256, commit.ETag);
        await _writes.WriteAsync();
        CollectGarbageSoon();
    }

    /// <inheritdoc />
    public async Task<VolumeFile> CompleteUploadAsync(Guid upload, string path, IReadOnlyList<int> parts, IReadOnlyList<string>? etags = null)
    {
        var volume = Volume;
        var target = Upload(upload, path);
        if (parts.Count == 0)
            throw new JobValidationException("parts", "name at least one part");
        for (var i = 0; i < parts.Count; i++)
        {
            if (!target.Parts.ContainsKey(parts[i]))
                throw new JobValidationException("parts", $"part {parts[i]} was not uploaded");
            if (i > 0 && parts[i] <= parts[i - 1])
                throw new JobValidationException("parts", $"parts must be in ascending order ({parts[i - 1]} then {parts[i]})");
            if (etags is not null && (etags.Count != parts.Count || !string.Equals(etags[i].Trim('"'), target.Parts[parts[i]].ETag.Trim('"'), StringComparison.OrdinalIgnoreCase)))
                throw new JobValidationException("parts", $"part {parts[i]} was uploaded with another ETag");
        }

        var chosen = parts.Select(p => target.Parts[p]).ToList();
        var length = chosen.Sum(p => p.Extent.Length);
        var replaced = S.Files.GetValueOrDefault(target.Path);
        VolumeRules.CheckQuota(volume, length, replaced?.File.Length ?? 0);
        // S3's multipart ETag: MD5 of the parts' binary MD5s, then "-" and the number of parts.
        var md5s = chosen.SelectMany(p => Convert.FromHexString(p.ETag.Trim('"'))).ToArray();
        var etag = $"\"{Convert.ToHexStringLower(MD5.HashData(md5s))}-{chosen.Count}\"";
        var file = new VolumeFile(target.Path, length, "", etag, clock.GetUtcNow());
        S.Uploads.Remove(upload);
        S.Files[target.Path] = new FileState { File = file, Extents = [.. chosen.Select(p => p.Extent)] };
        if (replaced is not null)
            AddGarbage(replaced.Extents);
        AddGarbage(target.Parts.Where(p => !parts.Contains(p.Key)).Select(p => p.Value.Extent));
        Recount();
        await _writes.WriteAsync();
        CollectGarbageSoon();
        return file;
    }

    /// <inheritdoc />
    public async Task AbortUploadAsync(Guid upload, string path)
    {
        _ = Volume;
        Upload(upload, path);
        S.Uploads.Remove(upload, out var target);
        AddGarbage(target!.Parts.Values.Select(p => p.Extent));
        foreach (var write in S.Pending.Where(p => p.Value.Upload == upload).Select(p => p.Key).ToList())
            S.Pending.Remove(write);
        await _writes.WriteAsync();
        CollectGarbageSoon();
    }

    private UploadState Upload(Guid upload, string? path = null)
    {
        if (!S.Uploads.TryGetValue(upload, out var target))
            throw new JobValidationException("upload", $"upload {upload:N} is unknown, completed or aborted");
        if (path is not null && VolumeNames.CheckPath(path) != target.Path)
            throw new JobValidationException("upload", $"upload {upload:N} is for '{target.Path}', not '{path}'");
        return target;
    }
}
