namespace PoolAI.Volumes;

/// <summary>Emptying a store of this volume's shards, for a store about to go away (the <c>migrate</c> system task).</summary>
public sealed partial class VolumeMaintenanceGrain
{
    /// <inheritdoc />
    public Task<DrainPlan> PlanDrainAsync(string store) => new StoreDrain(grains, Name, Options.RebuildParallelism).PlanAsync(store);

    /// <inheritdoc />
    public Task<DrainStep> DrainAsync(string store, int maxShards)
    {
        DelayDeactivation(TimeSpan.FromMinutes(30));
        // Off the grain's turn, as a rebuild: the shards are read, coded and written on the thread pool.
        var drain = new StoreDrain(grains, Name, Options.RebuildParallelism);
        return Task.Run(() => drain.StepAsync(store, maxShards));
    }
}
