namespace PoolAI.Volumes;

/// <summary>One page of a listing, as S3's ListObjectsV2 pages: sorted by path (ordinal), common prefixes rolled up at the delimiter.</summary>
public static class VolumeListings
{
    /// <summary>The page of <paramref name="files"/> that <paramref name="request"/> asks for.</summary>
    /// <exception cref="Jobs.JobValidationException">Field <c>limit</c>: not 1–1000.</exception>
    public static VolumeListing Page(IEnumerable<VolumeFile> files, ListRequest request)
    {
        if (request.Limit is < 1 or > 1000)
            throw new Jobs.JobValidationException("limit", $"must be 1 to 1000 (got {request.Limit})");
        var prefix = request.Prefix ?? "";
        var page = new List<VolumeFile>();
        var prefixes = new List<string>();
        string? last = null;
        var more = false;
        foreach (var file in files.Where(f => f.Path.StartsWith(prefix, StringComparison.Ordinal)).OrderBy(f => f.Path, StringComparer.Ordinal))
        {
            if (request.StartAfter is { } after && string.CompareOrdinal(file.Path, after) <= 0)
                continue;
            string? common = null;
            if (request.Delimiter is { Length: > 0 } delimiter && file.Path.IndexOf(delimiter, prefix.Length, StringComparison.Ordinal) is var at and >= 0)
                common = file.Path[..(at + delimiter.Length)];
            if (common is not null && prefixes.Count > 0 && prefixes[^1] == common)
                continue;
            if (common is not null && request.StartAfter is { } s && s.StartsWith(common, StringComparison.Ordinal))
                continue; // that folder was on an earlier page
            if (page.Count + prefixes.Count == request.Limit)
            {
                more = true;
                break;
            }

            if (common is not null)
            {
                prefixes.Add(common);
                last = common; // the next page skips everything under it
            }
            else
            {
                page.Add(file);
                last = file.Path;
            }
        }

        return new VolumeListing(page, prefixes, more ? last : null);
    }
}
