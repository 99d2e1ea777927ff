using PoolAI.Execution;
using PoolAI.Jobs;
using PoolAI.Volumes;

namespace PoolAI.Kinds.DataProcessing;

/// <summary>
/// Runs data-processing jobs on a trusted silo: a <see cref="DataOperations.Sync"/> mirrors a volume folder and a
/// bucket folder (<see cref="VolumeSync"/>), reporting files done of the total as progress.
/// </summary>
/// <param name="grains">The cluster, for the volumes.</param>
public sealed class DataProcessingExecutor(IGrainFactory grains) : IJobExecutor<DataProcessingInput, DataProcessingOutput>
{
    /// <inheritdoc />
    public async Task<DataProcessingOutput> ExecuteAsync(JobExecution<DataProcessingInput> job, CancellationToken cancellationToken)
    {
        var input = job.Input;
        DataProcessingRules.Validate(job.Target, input); // again: the job may have been stored under older rules
        using var bucket = new S3Bucket(DataProcessingRules.Endpoint(input.Endpoint), input.Bucket!, input.Region ?? DataProcessingInput.DefaultRegion,
            input.AccessKeyId!, input.SecretAccessKey!);
        var sync = new VolumeSync(new VolumeClient(grains), bucket, input) { Progress = job.Report };
        return await sync.RunAsync(cancellationToken);
    }
}
