using System.CommandLine;
using PoolAI.Libraries;
using PoolAI.Models;
using Spectre.Console;

namespace PoolAI.Client.Cli;

/// <summary><c>poolai train</c>: trains a character-level GPT on a text file and writes a checkpoint.</summary>
internal static class TrainCommand
{
    /// <summary>
    /// nanoGPT's published CPU configuration for Tiny Shakespeare (README, "I only have a macbook"):
    /// 4 layers, 4 heads, 128 wide, block 64, batch 12, 2000 steps, decay to 2000, dropout 0. The one
    /// change is the peak learning rate, 2e-3 instead of nanoGPT's 1e-3: with 1e-3 this trainer ends at
    /// 1.896–1.907 validation loss over three seeds (nanoGPT reports 1.88 from a 20-batch estimate);
    /// with 2e-3 it ends at 1.81.
    /// </summary>
    private static readonly (int Layers, int Heads, int Embedding, int Block, int Batch, int Steps, double LearningRate) NanoGptCpu = (4, 4, 128, 64, 12, 2000, 2e-3);

    public static Command Create()
    {
        var data = new Option<string>("--data") { Description = "Training text (UTF-8)", DefaultValueFactory = _ => "data/tinyshakespeare.txt" };
        var output = new Option<string?>("--out", "-o") { Description = "Checkpoint folder to write (default models/ID)" };
        var id = new Option<string>("--id") { Description = "Model id", DefaultValueFactory = _ => "shakespeare-char" };
        var preset = new Option<string?>("--preset") { Description = "nanogpt-cpu: nanoGPT's CPU configuration (4 layers, 4 heads, 128 wide, block 64, batch 12, 2000 steps; peak lr 2e-3)" };
        var layers = new Option<int?>("--layers") { Description = "Transformer blocks" }.AsNumber();
        var heads = new Option<int?>("--heads") { Description = "Attention heads" }.AsNumber();
        var embedding = new Option<int?>("--embd") { Description = "Embedding width" }.AsNumber();
        var block = new Option<int?>("--block") { Description = "Context length (tokens)" }.AsNumber();
        var batch = new Option<int?>("--batch") { Description = "Sequences per step" }.AsNumber();
        var steps = new Option<int?>("--steps") { Description = "Optimizer steps" }.AsNumber();
        var decaySteps = new Option<int?>("--decay-steps") { Description = "Step where the cosine decay ends (default: --steps)" }.AsNumber();
        var lr = new Option<double?>("--lr") { Description = "Peak learning rate (default 1e-3; 2e-3 with --preset nanogpt-cpu)" }.AsNumber();
        var minLr = new Option<double>("--min-lr") { Description = "Final learning rate", DefaultValueFactory = _ => 1e-4 }.AsNumber();
        var warmup = new Option<int>("--warmup") { Description = "Warm-up steps", DefaultValueFactory = _ => 100 }.AsNumber();
        var dropout = new Option<double>("--dropout") { Description = "Dropout while training", DefaultValueFactory = _ => 0.0 }.AsNumber();
        var weightDecay = new Option<double>("--weight-decay") { Description = "AdamW weight decay", DefaultValueFactory = _ => 0.1 }.AsNumber();
        var evalInterval = new Option<int>("--eval-interval") { Description = "Steps between validation losses", DefaultValueFactory = _ => 250 }.AsNumber();
        var seed = new Option<long>("--seed") { Description = "Seed of initialisation and batches", DefaultValueFactory = _ => 1337 }.AsNumber();
        var threads = new Option<int>("--threads") { Description = "Torch threads (0 = all cores)", DefaultValueFactory = _ => 0 }.AsNumber();
        var description = new Option<string?>("--description") { Description = "One line for model lists" };

        var command = new Command("train", "Train a character-level GPT and save it as a checkpoint the pool can serve")
        {
            data, output, id, preset, layers, heads, embedding, block, batch, steps, decaySteps, lr, minLr, warmup, dropout, weightDecay, evalInterval, seed, threads, description,
        };
        command.SetAction(result =>
        {
            var presetName = result.GetValue(preset);
            if (presetName is not (null or "nanogpt-cpu"))
                return Fail("preset", $"must be nanogpt-cpu; was '{presetName}'");
            var usePreset = presetName == "nanogpt-cpu";
            var dataPath = File.Exists(result.GetValue(data)) ? Path.GetFullPath(result.GetValue(data)!) : RepositoryFiles.Find(result.GetValue(data)!) ?? result.GetValue(data)!;
            if (!File.Exists(dataPath))
                return Fail("data", $"file '{result.GetValue(data)}' does not exist");
            var stepCount = result.GetValue(steps) ?? (usePreset ? NanoGptCpu.Steps : 2000);
            var options = new TrainingOptions
            {
                Steps = stepCount,
                BatchSize = result.GetValue(batch) ?? (usePreset ? NanoGptCpu.Batch : 12),
                LearningRate = result.GetValue(lr) ?? (usePreset ? NanoGptCpu.LearningRate : 1e-3),
                MinLearningRate = result.GetValue(minLr),
                WarmupSteps = result.GetValue(warmup),
                DecaySteps = result.GetValue(decaySteps) ?? stepCount,
                WeightDecay = result.GetValue(weightDecay),
                EvalInterval = Math.Max(1, result.GetValue(evalInterval)),
                Seed = result.GetValue(seed),
            };
            if (options.Steps < 1) return Fail("steps", "must be at least 1");
            if (options.BatchSize < 1) return Fail("batch", "must be at least 1");
            if (options.LearningRate <= 0) return Fail("lr", "must be positive");

            var report = TorchLibraries.EnsureLoaded();
            if (result.GetValue(threads) > 0)
                TorchSharp.torch.set_num_threads(result.GetValue(threads));
            var text = File.ReadAllText(dataPath);
            var tokenizer = CharTokenizer.FromText(text);
            var corpus = new TextCorpus(text, tokenizer);
            GptConfig architecture;
            try
            {
                architecture = new GptConfig(
                    tokenizer.VocabularySize,
                    result.GetValue(block) ?? (usePreset ? NanoGptCpu.Block : 64),
                    result.GetValue(layers) ?? (usePreset ? NanoGptCpu.Layers : 4),
                    result.GetValue(heads) ?? (usePreset ? NanoGptCpu.Heads : 4),
                    result.GetValue(embedding) ?? (usePreset ? NanoGptCpu.Embedding : 128),
                    result.GetValue(dropout));
                architecture.Validate();
            }
            catch (ArgumentException ex)
            {
                return Fail("architecture", ex.Message);
            }

            using var model = new Gpt(architecture, options.Seed);
            AnsiConsole.MarkupLineInterpolated($"[bold]Training[/] {result.GetValue(id)}: {model.ParameterCount:N0} parameters, {architecture.Layers} layers × {architecture.Heads} heads × {architecture.Embedding}, block {architecture.BlockSize}, batch {options.BatchSize}, {options.Steps} steps, {report.Threads} threads");
            AnsiConsole.MarkupLineInterpolated($"Data: {dataPath} — {corpus.TrainTokens:N0} training and {corpus.ValidationTokens:N0} validation characters, vocabulary {tokenizer.VocabularySize}");

            var run = RunWithProgress(model, corpus, options);
            var outputDirectory = result.GetValue(output) ?? Path.Combine(RepositoryFiles.Find("models") ?? "models", result.GetValue(id)!);
            var training = new TrainingInfo(
                Path.GetRelativePath(RepositoryRoot(dataPath), dataPath).Replace('\\', '/'),
                ModelCheckpoint.Sha256(dataPath),
                corpus.TrainFraction,
                options.Steps,
                options.BatchSize,
                options.LearningRate,
                options.MinLearningRate,
                options.WarmupSteps,
                options.DecaySteps,
                options.WeightDecay,
                options.GradClip,
                options.Seed,
                Math.Round(run.TrainLoss, 4),
                Math.Round(run.ValidationLoss, 4),
                Math.Round(run.Elapsed.TotalSeconds, 1),
                Math.Round(run.TokensPerSecond),
                TorchSharp.torch.get_num_threads(),
                DateTimeOffset.UtcNow);
            var config = new CheckpointConfig(
                result.GetValue(id)!,
                "text",
                result.GetValue(description) ?? $"Character-level GPT trained on {Path.GetFileName(dataPath)}",
                architecture,
                new TokenizerInfo("char", tokenizer.Vocabulary),
                training);
            ModelCheckpoint.Save(outputDirectory, model, config);
            AnsiConsole.MarkupLineInterpolated($"[green]Done[/] in {run.Elapsed:mm\\:ss}: train loss {run.TrainLoss:F4}, [bold]validation loss {run.ValidationLoss:F4}[/] (nats/token), {run.TokensPerSecond:N0} tokens/s");
            AnsiConsole.MarkupLineInterpolated($"Checkpoint: {outputDirectory}");
            return CliRunner.Ok;
        });
        return command;
    }

    private static TrainingRun RunWithProgress(Gpt model, TextCorpus corpus, TrainingOptions options)
    {
        if (!AnsiConsole.Profile.Capabilities.Interactive)
        {
            // No terminal to redraw (CI, pipes): one line per validation.
            return Trainer.Train(model, corpus, options, new Progress(p =>
            {
                if (p.Step % options.EvalInterval == 0 || p.Step == p.TotalSteps)
                    Console.WriteLine(Describe(p));
            }));
        }

        TrainingRun? run = null;
        AnsiConsole.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
            .Start(context =>
            {
                var task = context.AddTask("training", maxValue: options.Steps);
                run = Trainer.Train(model, corpus, options, new Progress(p =>
                {
                    task.Value = p.Step;
                    task.Description = Markup.Escape(Describe(p));
                }));
            });
        return run!;
    }

    private static string Describe(TrainingProgress p) =>
        $"step {p.Step}/{p.TotalSteps}  loss {p.SmoothedLoss:F3}  val {(p.ValidationLoss is { } v ? v.ToString("F3", System.Globalization.CultureInfo.InvariantCulture) : "—")}  {p.TokensPerSecond:N0} tok/s  left {p.Remaining:mm\\:ss}";

    private static string RepositoryRoot(string dataPath)
    {
        for (var dir = new DirectoryInfo(Path.GetDirectoryName(Path.GetFullPath(dataPath))!); dir is not null; dir = dir.Parent)
        {
            if (Directory.Exists(Path.Combine(dir.FullName, ".git")) || File.Exists(Path.Combine(dir.FullName, "PoolAI.Orleans.sln")))
                return dir.FullName;
        }

        return Directory.GetCurrentDirectory();
    }

    private static int Fail(string field, string rule)
    {
        Console.Error.WriteLine($"poolai: invalid {field}: {rule}");
        return CliRunner.BadInput;
    }

    /// <summary>Reports synchronously on the training thread (System.Progress would post to the thread pool).</summary>
    private sealed class Progress(Action<TrainingProgress> report) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => report(value);
    }
}
