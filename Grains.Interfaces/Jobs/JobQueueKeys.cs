using PoolAI.Execution;

namespace PoolAI.Jobs;

/// <summary>
/// Keys of <see cref="IJobQueueGrain"/>: one queue per job kind and target, <c>KIND/TARGET</c> (the same text as the
/// executor key of that pair, e.g. <c>TextGeneration/shakespeare-char</c>, <c>System/noop</c>). Queues created before
/// kinds were open were keyed by the target alone (<c>shakespeare-char</c>, <c>noop</c>); such a key still names the
/// text-generation (or, for a system task's name, the system) queue of that target, so jobs stored in them keep running.
/// </summary>
public static class JobQueueKeys
{
    /// <summary>The queue of <paramref name="kind"/> jobs on <paramref name="target"/>.</summary>
    public static string For(JobKind kind, string target) => ExecutorKeys.For(kind, target);

    /// <summary>The kind and target of a queue key, old-style keys included.</summary>
    public static (JobKind Kind, string Target) Parse(string key)
    {
        if (key.Contains('/', StringComparison.Ordinal))
        {
            var (kind, target, _) = ExecutorKeys.Parse(key);
            return (kind, target);
        }

        return (SystemTasks.Contains(key) ? JobKind.System : JobKind.TextGeneration, key);
    }
}
