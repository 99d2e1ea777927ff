using PoolAI.Jobs;

namespace PoolAI.Execution;

/// <summary>
/// Runs one kind of job on this silo: the part of a kind that does the work (vLLM's executor to the pool's engine). The
/// same contract serves every silo that runs the kind, so a kind never asks where it runs. An executor reports
/// progress and streams output through its <see cref="JobExecution{TInput}"/>, stores files as artifacts, checkpoints long work so a
/// later attempt resumes (<see cref="JobExecution{TInput}.ResumeFrom"/>), and stops promptly when its
/// cancellation token fires (the job was cancelled, expired, or its lease was lost).
/// </summary>
/// <typeparam name="TInput">The kind's input record.</typeparam>
/// <typeparam name="TOutput">The kind's output record.</typeparam>
public interface IJobExecutor<TInput, TOutput>
    where TInput : class, IJobInput
    where TOutput : class, IJobOutput
{
    /// <summary>Runs one attempt of a job and returns what it produced.</summary>
    /// <exception cref="JobValidationException">The input breaks a rule only the executor can check; the job fails without retry.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> fired.</exception>
    /// <exception cref="Exception">Anything else fails the attempt; the job is retried elsewhere while attempts remain.</exception>
    Task<TOutput> ExecuteAsync(JobExecution<TInput> job, CancellationToken cancellationToken);
}

/// <summary>An executor without its types, as the executor grain holds it.</summary>
public interface IJobExecutor
{
    /// <summary>Runs one attempt over <paramref name="channel"/>'s request.</summary>
    Task<IJobOutput> ExecuteAsync(ExecutionChannel channel, CancellationToken cancellationToken);
}

/// <summary>Adapts a typed executor to <see cref="IJobExecutor"/>.</summary>
internal sealed class TypedExecutor<TInput, TOutput>(IJobExecutor<TInput, TOutput> executor) : IJobExecutor
    where TInput : class, IJobInput
    where TOutput : class, IJobOutput
{
    public async Task<IJobOutput> ExecuteAsync(ExecutionChannel channel, CancellationToken cancellationToken) =>
        await executor.ExecuteAsync(new JobExecution<TInput>(channel, (TInput)channel.Request.Input), cancellationToken);
}
