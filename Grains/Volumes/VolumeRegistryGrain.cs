using PoolAI.Placement;
using PoolAI.Storage;

namespace PoolAI.Volumes;

/// <summary>The volume names (state name <c>volumes</c>).</summary>
[CoordinatorFilter]
public sealed class VolumeRegistryGrain([PersistentState("volumes", PoolKeys.Storage)] IPersistentState<List<string>> state) : Grain, IVolumeRegistryGrain
{
    private readonly SerializedWrites<List<string>> _writes = new(state);

    /// <inheritdoc />
    public async Task AddAsync(string volume)
    {
        if (state.State.Contains(volume))
            return;
        state.State.Add(volume);
        state.State.Sort(StringComparer.Ordinal);
        await _writes.WriteAsync();
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<string>> ListAsync() => Task.FromResult<IReadOnlyList<string>>([.. state.State]);
}
