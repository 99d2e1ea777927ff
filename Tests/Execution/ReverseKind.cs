using System.Text;
using PoolAI.Execution;
using PoolAI.Jobs;

namespace PoolAI.Tests.Execution;

/// <summary>
/// A job kind that exists only in the tests: it reverses a text one character per step, streaming each character,
/// reporting progress, checkpointing after every step and storing the result as an artifact. It is registered on a test
/// cluster with one <c>AddJobKind</c> call and touches no grain, which is what it is here to show.
/// </summary>
public static class ReverseKind
{
    public static readonly JobKind Reverse = new("Reverse");

    public const string Target = "reverse";

    public const decimal Rate = 0.25m;

    public static ISiloBuilder AddReverse(this ISiloBuilder silo) =>
        silo.AddJobKind(Reverse, _ => new Descriptor(), _ => new Executor());

    public static JobSpec Job(string text, int failAfterStep = 0, int stepDelayMs = 0) =>
        new(Reverse, Target, new ReverseInput(text, failAfterStep, stepDelayMs), Requester: "reverse-tests");

    public sealed class Descriptor() : JobKindDescriptor<ReverseInput, ReverseOutput>(Reverse)
    {
        public override string WorkUnit => "characters reversed";

        public override IEnumerable<string> KnownTargets => [Target];

        public override bool Serves(IReadOnlyDictionary<string, string> silo, string target) => target == Target;

        protected override void Validate(JobSpec spec, ReverseInput input)
        {
            if (spec.Model != Target)
                throw new JobValidationException("model", $"must be '{Target}'; was '{spec.Model}'");
            if (string.IsNullOrEmpty(input.Text) || input.Text.Length > 1000)
                throw new JobValidationException("input.text", $"must hold 1 to 1000 characters; had {input.Text?.Length ?? 0}");
        }

        protected override long WorkUnits(ReverseOutput output) => output.Reversed.Length;

        public override decimal RatePerUnit(PoolAI.Rewards.RewardFormula formula, long modelParameters) => Rate;

        public override IJobOutput? PartialOutput(string streamed, JobProgress? progress) => new ReverseOutput(streamed, 0, null);
    }

    public sealed class Executor : IJobExecutor<ReverseInput, ReverseOutput>
    {
        public async Task<ReverseOutput> ExecuteAsync(JobExecution<ReverseInput> job, CancellationToken cancellationToken)
        {
            var text = job.Input.Text;
            var done = new StringBuilder();
            if (job.ResumeFrom is { } checkpoint)
            {
                done.Append(Encoding.UTF8.GetString(await job.ReadArtifactAsync(checkpoint.Artifact, cancellationToken)));
                job.Write(done.ToString());
            }

            var resumedFrom = done.Length;
            for (var step = done.Length + 1; step <= text.Length; step++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var next = text[^step].ToString();
                done.Append(next);
                job.Write(next, new JobProgress(step, text.Length, "characters", Metrics: new Dictionary<string, double> { ["step"] = step }));
                await using (var state = new MemoryStream(Encoding.UTF8.GetBytes(done.ToString())))
                    await job.CheckpointAsync(state, step, cancellationToken: cancellationToken);
                if (job.Attempt == 1 && step == job.Input.FailAfterStep)
                    throw new InvalidOperationException($"injected failure after step {step}");
                if (job.Input.StepDelayMs > 0)
                    await Task.Delay(job.Input.StepDelayMs, cancellationToken);
            }

            var report = await job.StoreArtifactAsync(Encoding.UTF8.GetBytes(done.ToString()), "text/plain", "reversed.txt", cancellationToken);
            return new ReverseOutput(done.ToString(), resumedFrom, report);
        }
    }
}

/// <summary>The input of a <see cref="ReverseKind"/> job.</summary>
[GenerateSerializer, Immutable, Alias("poolai.tests.ReverseInput")]
public sealed record ReverseInput(
    [property: Id(0)] string Text,
    [property: Id(1)] int FailAfterStep = 0,
    [property: Id(2)] int StepDelayMs = 0) : IJobInput;

/// <summary>The output of a <see cref="ReverseKind"/> job.</summary>
[GenerateSerializer, Immutable, Alias("poolai.tests.ReverseOutput")]
public sealed record ReverseOutput(
    [property: Id(0)] string Reversed,
    [property: Id(1)] int ResumedFrom,
    [property: Id(2)] ArtifactRef? Report) : IJobOutput;
