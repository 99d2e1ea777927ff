namespace PoolAI.Models;

/// <summary>
/// The models this serving silo serves now. A silo configured with a list (<c>PoolAI:Miner:Models</c>) serves that
/// list; one configured with none serves every model in its registry, including models mirrored onto it while it runs
/// (the <c>mirror</c> system task): <see cref="RefreshAsync"/> reads the registry's current models after a checkpoint
/// arrives, and <see cref="Changed"/> tells the silo's worker registration, which advertises the new set to the pool.
/// Thread-safe.
/// </summary>
public sealed class ServedModels
{
    private readonly ModelRegistry _registry;
    private readonly IReadOnlyList<string>? _configured;
    private readonly Lock _refreshing = new();
    private volatile IReadOnlyList<string> _current;

    /// <summary>Serves <paramref name="configured"/> when it lists models, else every model <paramref name="registry"/> knows.</summary>
    public ServedModels(ModelRegistry registry, IReadOnlyList<string> configured)
    {
        _registry = registry;
        _configured = configured.Count > 0 ? [.. configured] : null;
        _current = Compute();
    }

    /// <summary>Raised after <see cref="RefreshAsync"/> changed <see cref="Current"/>, with the new set (sorted for a registry-following silo, in configured order otherwise).</summary>
    public event Func<IReadOnlyList<string>, Task>? Changed;

    /// <summary>Model ids served now.</summary>
    public IReadOnlyList<string> Current => _current;

    /// <summary>True when the silo follows its registry (no configured list), so mirrored models join what it serves.</summary>
    public bool FollowsRegistry => _configured is null;

    /// <summary>
    /// Reads the registry's models again (call after <see cref="ModelRegistry.Refresh"/>) and, when the set changed,
    /// awaits every <see cref="Changed"/> handler. A silo with a configured list serves that list whatever arrives.
    /// </summary>
    /// <returns>True when the set changed.</returns>
    public async Task<bool> RefreshAsync()
    {
        IReadOnlyList<string> now;
        lock (_refreshing)
        {
            now = Compute();
            if (now.SequenceEqual(_current, StringComparer.Ordinal))
                return false;
            _current = now;
        }

        if (Changed is { } changed)
        {
            foreach (var handler in changed.GetInvocationList().Cast<Func<IReadOnlyList<string>, Task>>())
                await handler(now);
        }

        return true;
    }

    private IReadOnlyList<string> Compute() => _configured ?? _registry.Ids;
}
