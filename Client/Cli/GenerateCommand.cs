using System.CommandLine;
using PoolAI.Client.Sdk;
using PoolAI.Jobs;

namespace PoolAI.Client.Cli;

/// <summary><c>poolai generate PROMPT</c>: runs a text-generation job on the pool and streams the text.</summary>
internal static class GenerateCommand
{
    public static Command Create()
    {
        var prompt = new Argument<string>("prompt") { Description = "Text for the model to continue" };
        var model = new Option<string>("--model", "-m") { Description = "Model id", DefaultValueFactory = _ => "shakespeare-char" };
        var maxTokens = new Option<int>("--max-tokens", "-n") { Description = $"Tokens to generate (1 to {JobSpecRules.MaxTokensLimit})", DefaultValueFactory = _ => 256 }
            .AsNumber($"between 1 and {JobSpecRules.MaxTokensLimit}");
        var temperature = new Option<float>("--temperature", "-t") { Description = $"Sampling temperature, 0 to {JobSpecRules.MaxTemperature} (0 = greedy)", DefaultValueFactory = _ => 0.8f }
            .AsNumber($"between 0 and {JobSpecRules.MaxTemperature}");
        var topK = new Option<int>("--top-k") { Description = "Keep the K most likely tokens (0 = all)", DefaultValueFactory = _ => 0 }.AsNumber($"between 0 (all) and {int.MaxValue}");
        var topP = new Option<float>("--top-p") { Description = "Nucleus sampling mass, in (0, 1]", DefaultValueFactory = _ => 1.0f }.AsNumber("in (0, 1]");
        var seed = new Option<long>("--seed", "-s") { Description = "Sampler seed; the same seed and settings give the same text", DefaultValueFactory = _ => 0 }.AsNumber();
        var stop = new Option<string[]>("--stop") { Description = "Stop before this text (repeatable)", AllowMultipleArgumentsPerToken = false };
        var priority = new Option<int>("--priority") { Description = "Job priority, -10 to 10", DefaultValueFactory = _ => 0 }
            .AsNumber($"between {JobSpecRules.MinPriority} and {JobSpecRules.MaxPriority}");
        var device = new Option<string?>("--device") { Description = "Run only on a silo of this device class: cpu or cuda" };
        var minMemory = new Option<long>("--min-memory-mb") { Description = "Run only on a silo with at least this much memory, MiB" }
            .AsNumber($"between 0 and {JobRequirements.MaxMemoryMb}");
        var minGpuMemory = new Option<long>("--min-gpu-memory-mb") { Description = "Run only on a cuda silo with at least this much GPU memory, MiB" }
            .AsNumber($"between 0 and {JobRequirements.MaxMemoryMb}");
        var quiet = new Option<bool>("--quiet", "-q") { Description = "Print only the generated text (no prompt, no summary)" };
        var noCache = new Option<bool>("--no-cache") { Description = "Run the job on a worker even if the pool has the result of an identical request cached" };

        var command = new Command("generate", "Generate text on the pool, streaming it as it is produced")
        {
            prompt, model, maxTokens, temperature, topK, topP, seed, stop, priority, device, minMemory, minGpuMemory, quiet, noCache,
        };
        command.SetAction(async (result, cancellationToken) =>
        {
            var settings = new GenerationSettings(
                result.GetValue(prompt) ?? string.Empty,
                result.GetValue(maxTokens),
                result.GetValue(temperature),
                result.GetValue(topK),
                result.GetValue(topP),
                result.GetValue(seed),
                result.GetValue(stop) is { Length: > 0 } stops ? stops : null);
            var requirements = new JobRequirements(result.GetValue(device), result.GetValue(minMemory), result.GetValue(minGpuMemory));
            var spec = new JobSpec(JobKind.TextGeneration, result.GetValue(model)!, settings, result.GetValue(priority), Environment.UserName,
                Requirements: requirements.IsEmpty ? null : requirements, NoCache: result.GetValue(noCache));
            var isQuiet = result.GetValue(quiet);
            return await CliRunner.RunAsync(async (connection, ct) =>
            {
                var submitted = await connection.Client.SubmitAsync(spec);
                if (!isQuiet)
                {
                    CliRunner.ReportSubmitted(submitted, connection.Description);
                    Console.Write(settings.Prompt);
                }

                try
                {
                    await foreach (var text in connection.Client.StreamTextAsync(submitted.Id, ct))
                        Console.Write(text);
                }
                catch (OperationCanceledException) when (ct.IsCancellationRequested)
                {
                    await ((Task)connection.Client.CancelAsync(submitted.Id, "interrupted at the terminal")).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing); // it may have just finished
                    throw;
                }

                Console.WriteLine();
                var view = await connection.Client.GetAsync(submitted.Id);
                return CliRunner.ReportFinal(view, isQuiet, connection.Description);
            }, validate: registry =>
            {
                JobSpecRules.Validate(spec);
                if (registry is null)
                    JobSpecRules.Validate(settings);
                else
                    new Kinds.Text.TextGenerationKind(spec.Kind, registry).Validate(spec);
            }, cancellationToken);
        });
        return command;
    }
}
