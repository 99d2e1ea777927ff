namespace PoolAI.Kinds.DataProcessing;

/// <summary>
/// What a sync does, decided from the two listings alone (<see cref="ContentMatch"/>): the source files to copy, those the
/// target already holds, those to look at more closely, and the target files to delete. A re-run after an interruption
/// makes a plan of only what is still missing or different, which is what makes a sync resumable.
/// </summary>
/// <param name="Copy">Source files the target lacks or holds with other content, by name.</param>
/// <param name="Skip">Source files the target holds with the same content.</param>
/// <param name="Undecided">Source files whose target can be neither told equal nor different yet, with that target.</param>
/// <param name="Delete">Target files the source lacks (only when deleting was asked for).</param>
public sealed record SyncPlan(
    IReadOnlyList<SyncEntry> Copy,
    IReadOnlyList<SyncEntry> Skip,
    IReadOnlyList<(SyncEntry Source, SyncEntry Target)> Undecided,
    IReadOnlyList<SyncEntry> Delete)
{
    /// <summary>Plans the mirror of <paramref name="source"/> onto <paramref name="target"/>, each in name order; with <paramref name="delete"/>, target files the source lacks are deleted.</summary>
    public static SyncPlan Make(IEnumerable<SyncEntry> source, IEnumerable<SyncEntry> target, bool delete)
    {
        var targets = target.ToDictionary(e => e.Name, StringComparer.Ordinal);
        var copy = new List<SyncEntry>();
        var skip = new List<SyncEntry>();
        var undecided = new List<(SyncEntry, SyncEntry)>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var file in source.OrderBy(e => e.Name, StringComparer.Ordinal))
        {
            names.Add(file.Name);
            if (!targets.TryGetValue(file.Name, out var existing))
            {
                copy.Add(file);
                continue;
            }

            switch (ContentMatch.Compare(file, existing))
            {
                case Sameness.Same:
                    skip.Add(file);
                    break;
                case Sameness.Different:
                    copy.Add(file);
                    break;
                default:
                    undecided.Add((file, existing));
                    break;
            }
        }

        var extra = delete ? targets.Values.Where(e => !names.Contains(e.Name)).OrderBy(e => e.Name, StringComparer.Ordinal).ToList() : [];
        return new SyncPlan(copy, skip, undecided, extra);
    }
}
