using System.CommandLine;
using PoolAI.Libraries;
using PoolAI.Models;

namespace PoolAI.Client.Cli;

/// <summary><c>poolai eval --model ID</c>: the checkpoint's validation loss on the held-out part of its training data.</summary>
internal static class EvalCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model", "-m") { Description = "Model id", DefaultValueFactory = _ => "shakespeare-char" };
        var data = new Option<string?>("--data") { Description = "Text to evaluate on (default: the checkpoint's training data, held-out split)" };
        var command = new Command("eval", "Print a model's validation loss on the held-out 10% of its data") { model, data };
        command.SetAction(result =>
        {
            var registry = new ModelRegistry(ModelRegistry.DefaultDirectory());
            string directory;
            try
            {
                directory = registry.PathOf(result.GetValue(model)!);
            }
            catch (Jobs.JobValidationException ex)
            {
                Console.Error.WriteLine($"poolai: invalid {ex.Field}: {ex.Rule}");
                return CliRunner.BadInput;
            }

            var config = ModelCheckpoint.ReadConfig(directory);
            var dataName = result.GetValue(data) ?? config.Training?.Data ?? "data/tinyshakespeare.txt";
            var dataPath = RepositoryFiles.Find(dataName) ?? dataName;
            if (!File.Exists(dataPath))
            {
                Console.Error.WriteLine($"poolai: invalid data: file '{dataName}' does not exist");
                return CliRunner.BadInput;
            }

            var checksum = ModelCheckpoint.Sha256(dataPath);
            if (config.Training is { } training && result.GetValue(data) is null && !string.Equals(training.DataSha256, checksum, StringComparison.OrdinalIgnoreCase))
                Console.Error.WriteLine($"poolai: warning: {dataPath} differs from the data the model was trained on (sha256 {checksum}, expected {training.DataSha256})");

            TorchLibraries.EnsureLoaded();
            using var loaded = ModelCheckpoint.Load(directory);
            var corpus = new TextCorpus(File.ReadAllText(dataPath), loaded.Tokenizer, config.Training?.TrainFraction ?? 0.9);
            var loss = Trainer.Evaluate(loaded.Model, corpus);
            Console.WriteLine($"{config.Id}: validation loss {loss:F4} nats/token over {corpus.ValidationTokens:N0} held-out characters of {dataName} ({loaded.Model.ParameterCount:N0} parameters, {config.Training?.Steps ?? 0} training steps)");
            return CliRunner.Ok;
        });
        return command;
    }
}
