using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;
using TorchSharp;

namespace PoolAI.Models;

/// <summary>
/// A model on disk: a folder with <c>config.json</c> (architecture, tokenizer, training facts) and
/// <c>model.bin</c> (weights in TorchSharp's format). The folder name is the model id.
/// </summary>
public static class ModelCheckpoint
{
    /// <summary>File name of the JSON config in a checkpoint folder.</summary>
    public const string ConfigFile = "config.json";

    /// <summary>File name of the weights in a checkpoint folder.</summary>
    public const string WeightsFile = "model.bin";

    /// <summary>JSON options of the config: snake_case, indented.</summary>
    public static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>Writes <paramref name="model"/> and <paramref name="config"/> to <paramref name="directory"/> (created if missing); the weights' checksum is filled in.</summary>
    public static CheckpointConfig Save(string directory, Gpt model, CheckpointConfig config)
    {
        Directory.CreateDirectory(directory);
        var weights = Path.Combine(directory, WeightsFile);
        model.save(weights);
        var saved = config with
        {
            Architecture = model.Config,
            Weights = new WeightsInfo(WeightsFile, "torchsharp", Sha256(weights), model.ParameterCount),
        };
        File.WriteAllText(Path.Combine(directory, ConfigFile), JsonSerializer.Serialize(saved, Json) + "\n");
        return saved;
    }

    /// <summary>Reads only the config of the checkpoint in <paramref name="directory"/>.</summary>
    /// <exception cref="FileNotFoundException">No config.json there.</exception>
    /// <exception cref="InvalidDataException">The config is not valid.</exception>
    public static CheckpointConfig ReadConfig(string directory)
    {
        var path = Path.Combine(directory, ConfigFile);
        if (!File.Exists(path))
            throw new FileNotFoundException($"no {ConfigFile} in {directory}", path);
        var config = JsonSerializer.Deserialize<CheckpointConfig>(File.ReadAllText(path), Json)
            ?? throw new InvalidDataException($"{path} is empty");
        if (config.Architecture is null || config.Tokenizer is null)
            throw new InvalidDataException($"{path} lacks architecture or tokenizer");
        return config;
    }

    /// <summary>Loads the checkpoint in <paramref name="directory"/> for inference (eval mode, no gradients).</summary>
    /// <exception cref="InvalidDataException">The weights' checksum does not match the config.</exception>
    public static LoadedModel Load(string directory)
    {
        var config = ReadConfig(directory);
        var weights = Path.Combine(directory, config.Weights?.File ?? WeightsFile);
        if (config.Weights?.Sha256 is { } expected && !string.Equals(expected, Sha256(weights), StringComparison.OrdinalIgnoreCase))
            throw new InvalidDataException($"{weights} does not match the sha256 in its config");
        var model = new Gpt(config.Architecture!);
        model.load(weights);
        model.eval();
        foreach (var parameter in model.parameters())
            parameter.requires_grad = false;
        return new LoadedModel(config, model, new CharTokenizer(config.Tokenizer!.Vocabulary));
    }

    /// <summary>Hex SHA-256 of a file.</summary>
    public static string Sha256(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }
}

/// <summary>A checkpoint's <c>config.json</c>.</summary>
/// <param name="Id">Model id (the folder name).</param>
/// <param name="Kind">What it generates: <c>text</c> or <c>code</c>.</param>
/// <param name="Description">One line for model lists.</param>
/// <param name="Architecture">Transformer sizes.</param>
/// <param name="Tokenizer">How text becomes tokens.</param>
/// <param name="Training">How it was trained, and the result.</param>
/// <param name="Weights">The weights file, its format and checksum.</param>
public sealed record CheckpointConfig(
    string Id,
    string Kind,
    string Description,
    GptConfig? Architecture,
    TokenizerInfo? Tokenizer,
    TrainingInfo? Training = null,
    WeightsInfo? Weights = null);

/// <summary>Tokenizer facts.</summary>
/// <param name="Type"><c>char</c>.</param>
/// <param name="Vocabulary">For <c>char</c>: the characters in id order.</param>
public sealed record TokenizerInfo(string Type, string Vocabulary);

/// <summary>Weights file facts.</summary>
/// <param name="File">File name in the checkpoint folder.</param>
/// <param name="Format"><c>torchsharp</c> (TorchSharp's <c>Module.save</c> format).</param>
/// <param name="Sha256">Hex SHA-256 of the file.</param>
/// <param name="Parameters">Number of weights.</param>
public sealed record WeightsInfo(string File, string Format, string Sha256, long Parameters);

/// <summary>How a checkpoint was trained.</summary>
/// <param name="Data">Training text, relative to the repository root.</param>
/// <param name="DataSha256">Hex SHA-256 of that file.</param>
/// <param name="TrainFraction">Leading share of the text used for training; the rest is validation.</param>
/// <param name="Steps">Optimizer steps taken.</param>
/// <param name="BatchSize">Sequences per step.</param>
/// <param name="LearningRate">Peak learning rate.</param>
/// <param name="MinLearningRate">Learning rate at the end of the cosine decay.</param>
/// <param name="WarmupSteps">Steps of linear warm-up.</param>
/// <param name="DecaySteps">Step at which the cosine decay ends.</param>
/// <param name="WeightDecay">AdamW weight decay on matrices.</param>
/// <param name="GradClip">Global gradient-norm clip.</param>
/// <param name="Seed">Seed of initialisation and batch sampling.</param>
/// <param name="TrainLoss">Mean cross-entropy (nats/token) on the training split at the end.</param>
/// <param name="ValLoss">Mean cross-entropy (nats/token) on the whole validation split at the end.</param>
/// <param name="WallSeconds">Training wall time.</param>
/// <param name="TokensPerSecond">Training throughput.</param>
/// <param name="Threads">Torch threads used.</param>
/// <param name="FinishedAt">When training ended.</param>
public sealed record TrainingInfo(
    string Data,
    string DataSha256,
    double TrainFraction,
    int Steps,
    int BatchSize,
    double LearningRate,
    double MinLearningRate,
    int WarmupSteps,
    int DecaySteps,
    double WeightDecay,
    double GradClip,
    long Seed,
    double TrainLoss,
    double ValLoss,
    double WallSeconds,
    double TokensPerSecond,
    int Threads,
    DateTimeOffset FinishedAt);

/// <summary>A model loaded for inference, with its tokenizer.</summary>
public sealed record LoadedModel(CheckpointConfig Config, Gpt Model, CharTokenizer Tokenizer) : IDisposable
{
    /// <inheritdoc />
    public void Dispose() => Model.Dispose();
}
