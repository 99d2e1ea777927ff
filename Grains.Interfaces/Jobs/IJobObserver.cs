namespace PoolAI.Jobs;

/// <summary>Receives a job's updates (partial output and status changes) as they happen.</summary>
[Alias("poolai.IJobObserver")]
public interface IJobObserver : IGrainObserver
{
    /// <summary>Called for each update; one-way, so a slow watcher never slows the job.</summary>
    [OneWay, Alias("OnUpdate")]
    Task OnUpdateAsync(JobUpdate update);
}
