using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using PoolAI.Jobs;
using PoolAI.Volumes;

namespace PoolAI.Kinds.DataProcessing;

/// <summary>
/// One run of a <see cref="DataOperations.Sync"/>: lists the volume's folder and the bucket's, plans what to copy, skip
/// and delete (<see cref="SyncPlan"/>), asks the bucket for the SHA-256 of objects the listings cannot tell apart (and, pushing,
/// reads the MD5 of a file written in parts where the object has a plain MD5 ETag), then
/// copies (a few files at once, each streamed: no file is held in memory whole) and deletes, reporting files done of
/// the total and bytes as it goes. Interrupted, it leaves every file it finished in place, so a re-run copies the rest.
/// <list type="bullet">
/// <item>Push: a file <c>PREFIX/NAME</c> becomes object <c>BUCKET_PREFIX/NAME</c>, sent with its SHA-256 as
/// <c>x-amz-checksum-sha256</c> (the service checks the bytes against it) and <c>x-amz-meta-sha256</c>.</item>
/// <item>Pull: an object becomes a file, written only when its bytes match the object's MD5 ETag (when it has one): a
/// file appears whole or not at all. Keys ending in <c>/</c> (folder markers) are neither copied nor deleted; keys that
/// cannot be volume paths are listed in <see cref="DataProcessingOutput.Refused"/>.</item>
/// </list>
/// </summary>
/// <param name="volumes">The pool's volumes.</param>
/// <param name="bucket">The bucket.</param>
/// <param name="input">The job's input, valid by <see cref="DataProcessingRules.ValidateSync"/>.</param>
public sealed class VolumeSync(VolumeClient volumes, S3Bucket bucket, DataProcessingInput input)
{
    /// <summary>Files copied or deleted at once.</summary>
    public const int FilesInFlight = 4;

    /// <summary>Tries per file before the run fails (a failed try is started again from the file's first byte).</summary>
    public const int TriesPerFile = 3;

    private readonly Lock _gate = new();
    private readonly string _volume = input.Volume!;
    private readonly string _volumeFolder = DataProcessingRules.VolumeFolder(input.Prefix);
    private readonly string _bucketFolder = DataProcessingRules.BucketFolder(input.BucketPrefix);
    private readonly bool _push = input.Direction == SyncDirections.Push;
    private long _done;
    private long _total;
    private long _bytesCopied;
    private long _bytesToCopy;

    /// <summary>Receives progress in files (step of total), with <c>bytes_copied</c> and <c>bytes_to_copy</c> metrics; null for none.</summary>
    public Action<JobProgress>? Progress { get; init; }

    /// <summary>Runs the sync.</summary>
    /// <exception cref="JobValidationException">No such volume (<c>input.volume</c>), or the bucket's service refused the input (see <see cref="S3Bucket"/>).</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> fired.</exception>
    public async Task<DataProcessingOutput> RunAsync(CancellationToken cancellationToken)
    {
        var refused = new List<string>();
        var files = await ListVolumeAsync(cancellationToken);
        var objects = await ListBucketAsync(refused, cancellationToken);
        var source = _push ? files.Where(f => Fits(f, refused)).ToList() : objects;
        var plan = SyncPlan.Make(source, _push ? objects : files, input.Delete);

        var copy = plan.Copy.ToList();
        var skip = plan.Skip.ToList();
        foreach (var (file, existing) in plan.Undecided)
        {
            // The listings could not tell: the object's own SHA-256 (which pushes store) decides. Failing that, a pushed
            // file (one written in parts has neither an MD5 ETag nor a SHA-256) is read here for its MD5, which costs a
            // read of the pool's own copy instead of an upload; a pulled object is copied again.
            var known = _push
                ? ContentMatch.Compare(file, existing with { Sha256 = await bucket.Sha256Async(_bucketFolder + existing.Name, cancellationToken) })
                : ContentMatch.Compare(file with { Sha256 = await bucket.Sha256Async(_bucketFolder + file.Name, cancellationToken) }, existing);
            if (known == Sameness.Unknown && _push && ContentMatch.IsMd5(ContentMatch.ETag(existing.ETag)))
                known = ContentMatch.Compare(file with { ETag = await Md5Async(_volumeFolder + file.Name, cancellationToken) }, existing);
            (known == Sameness.Same ? skip : copy).Add(file);
        }

        _total = source.Count + plan.Delete.Count;
        _done = skip.Count;
        _bytesToCopy = copy.Sum(f => f.Length);
        Report("compared the listings");
        await ForEachAsync(copy, CopyAsync, cancellationToken);
        await ForEachAsync(plan.Delete, DeleteAsync, cancellationToken);

        var summary = $"{Route()}: {copy.Count} copied ({_bytesCopied.ToString(CultureInfo.InvariantCulture)} bytes), {skip.Count} skipped, {plan.Delete.Count} deleted"
            + (refused.Count > 0 ? $", {refused.Count} refused" : string.Empty);
        return new DataProcessingOutput(DataOperations.Sync, summary, source.Count, copy.Count, skip.Count, plan.Delete.Count,
            _bytesCopied, skip.Sum(f => f.Length), refused.Take(DataProcessingOutput.MaxRefusedListed).ToList());
    }

    private async Task<List<SyncEntry>> ListVolumeAsync(CancellationToken cancellationToken)
    {
        var files = new List<SyncEntry>();
        string? after = null;
        try
        {
            do
            {
                cancellationToken.ThrowIfCancellationRequested();
                var page = await volumes.Volume(_volume).ListAsync(new ListRequest(_volumeFolder, StartAfter: after));
                files.AddRange(page.Files.Select(f => new SyncEntry(f.Path[_volumeFolder.Length..], f.Length, f.ETag, f.Sha256.Length > 0 ? f.Sha256 : null)));
                after = page.NextStartAfter;
            }
            while (after is not null);
        }
        catch (VolumeNotFoundException ex) when (ex.Path is null)
        {
            throw new JobValidationException("input.volume", $"the pool has no volume '{_volume}' (create it with poolai volume create {_volume})");
        }

        return files;
    }

    private async Task<List<SyncEntry>> ListBucketAsync(List<string> refused, CancellationToken cancellationToken)
    {
        var objects = new List<SyncEntry>();
        await foreach (var item in bucket.ListAsync(_bucketFolder, cancellationToken))
        {
            if (item.Key.EndsWith('/'))
                continue; // a folder marker: not a file on either side
            var name = item.Key[_bucketFolder.Length..];
            if (!_push && VolumePathProblem(_volumeFolder + name) is { } problem)
            {
                refused.Add($"{item.Key}: {problem}");
                continue;
            }

            objects.Add(new SyncEntry(name, item.Size ?? 0, item.ETag, null));
        }

        return objects;
    }

    // A pushed file's key must fit S3's 1024 bytes with the bucket prefix in front.
    private bool Fits(SyncEntry file, List<string> refused)
    {
        var bytes = Encoding.UTF8.GetByteCount(_bucketFolder + file.Name);
        if (bytes <= VolumeNames.MaxPathBytes)
            return true;
        refused.Add($"{_volumeFolder}{file.Name}: its key would be {bytes} UTF-8 bytes, over S3's {VolumeNames.MaxPathBytes}");
        return false;
    }

    private static string? VolumePathProblem(string path)
    {
        try
        {
            return VolumeNames.CheckPath(path, "key") == path ? null : "is not a volume path as it stands (it starts with '/')";
        }
        catch (JobValidationException ex)
        {
            return $"cannot be a volume path: it {ex.Rule}";
        }
    }

    private async Task ForEachAsync(IReadOnlyList<SyncEntry> files, Func<SyncEntry, CancellationToken, Task> action, CancellationToken cancellationToken)
    {
        var options = new ParallelOptions { MaxDegreeOfParallelism = FilesInFlight, CancellationToken = cancellationToken };
        await Parallel.ForEachAsync(files, options, async (file, token) =>
        {
            for (var attempt = 1; ; attempt++)
            {
                try
                {
                    await action(file, token);
                    break;
                }
                catch (Exception ex) when (attempt < TriesPerFile && ex is not (JobValidationException or OperationCanceledException))
                {
                    // Started again from the first byte; the failed try stored nothing (a volume write that is not
                    // completed is aborted; an S3 object appears only when its request completes).
                }
            }
        });
    }

    private async Task CopyAsync(SyncEntry file, CancellationToken cancellationToken)
    {
        if (_push)
        {
            await using var read = await volumes.OpenReadAsync(_volume, _volumeFolder + file.Name);
            await bucket.PutAsync(_bucketFolder + file.Name, read, read.File.Length, read.File.Sha256.Length > 0 ? read.File.Sha256 : null, cancellationToken);
            Copied(file, read.File.Length);
            return;
        }

        using var response = await bucket.GetAsync(_bucketFolder + file.Name, cancellationToken);
        var length = response.ContentLength;
        await using var write = await volumes.OpenWriteAsync(_volume, _volumeFolder + file.Name, length);
        using var md5 = IncrementalHash.CreateHash(HashAlgorithmName.MD5);
        var buffer = new byte[1 << 20];
        long copied = 0;
        int n;
        while ((n = await response.ResponseStream.ReadAsync(buffer, cancellationToken)) > 0)
        {
            md5.AppendData(buffer, 0, n);
            await write.WriteAsync(buffer.AsMemory(0, n), cancellationToken);
            copied += n;
        }

        if (copied != length)
            throw new IOException($"{bucket.Name}/{_bucketFolder}{file.Name}: read {copied} bytes of {length}; nothing was written");
        var tag = ContentMatch.ETag(response.ETag);
        var digest = Convert.ToHexStringLower(md5.GetHashAndReset());
        if (ContentMatch.IsMd5(tag) && tag != digest)
            throw new IOException($"{bucket.Name}/{_bucketFolder}{file.Name}: the MD5 of the bytes read is {digest}, the object's ETag says {tag}; nothing was written");
        await write.CompleteAsync(cancellationToken);
        Copied(file, copied);
    }

    /// <summary>The MD5 (hex) of a volume file's content, read whole.</summary>
    private async Task<string> Md5Async(string path, CancellationToken cancellationToken)
    {
        await using var read = await volumes.OpenReadAsync(_volume, path);
        using var md5 = IncrementalHash.CreateHash(HashAlgorithmName.MD5);
        var buffer = new byte[1 << 20];
        int n;
        while ((n = await read.ReadAsync(buffer, cancellationToken)) > 0)
            md5.AppendData(buffer, 0, n);
        return Convert.ToHexStringLower(md5.GetHashAndReset());
    }

    private async Task DeleteAsync(SyncEntry file, CancellationToken cancellationToken)
    {
        if (_push)
            await bucket.DeleteAsync(_bucketFolder + file.Name, cancellationToken);
        else
            await volumes.Volume(_volume).DeleteFileAsync(_volumeFolder + file.Name);
        lock (_gate)
        {
            _done++;
            Report($"deleted {file.Name}");
        }
    }

    private void Copied(SyncEntry file, long bytes)
    {
        lock (_gate)
        {
            _done++;
            _bytesCopied += bytes;
            Report($"copied {file.Name}");
        }
    }

    private void Report(string message) => Progress?.Invoke(new JobProgress(_done, _total, "files", message, new Dictionary<string, double>
    {
        ["bytes_copied"] = _bytesCopied,
        ["bytes_to_copy"] = _bytesToCopy,
    }));

    private string Route()
    {
        var volume = $"{_volume}:{_volumeFolder}";
        var remote = $"{input.Endpoint} {bucket.Name}/{_bucketFolder}";
        return _push ? $"push {volume} → {remote}" : $"pull {remote} → {volume}";
    }
}
