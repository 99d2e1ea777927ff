using PoolAI.Jobs;

namespace PoolAI.Models;

/// <summary>
/// Maps model ids to checkpoints: every sub-folder of <see cref="Directory"/> holding a
/// <c>config.json</c> is a model whose id is the folder name. Reads configs only (no tensors), so
/// every process — coordinator, miner, client — can validate jobs against it.
/// </summary>
public sealed class ModelRegistry
{
    private readonly Dictionary<string, CheckpointConfig> _models;
    private readonly Dictionary<string, CharTokenizer> _tokenizers;

    /// <summary>Reads the checkpoints under <paramref name="directory"/>; a missing folder means no models.</summary>
    public ModelRegistry(string directory)
    {
        Directory = directory;
        _models = new Dictionary<string, CheckpointConfig>(StringComparer.Ordinal);
        _tokenizers = new Dictionary<string, CharTokenizer>(StringComparer.Ordinal);
        if (!System.IO.Directory.Exists(directory))
            return;
        foreach (var folder in System.IO.Directory.EnumerateDirectories(directory).Order(StringComparer.Ordinal))
        {
            if (!File.Exists(Path.Combine(folder, ModelCheckpoint.ConfigFile)))
                continue;
            var config = ModelCheckpoint.ReadConfig(folder);
            var id = Path.GetFileName(folder);
            _models[id] = config with { Id = id };
            _tokenizers[id] = new CharTokenizer(config.Tokenizer!.Vocabulary);
        }
    }

    /// <summary>The folder scanned.</summary>
    public string Directory { get; }

    /// <summary>Model ids, sorted.</summary>
    public IReadOnlyList<string> Ids => _models.Keys.Order(StringComparer.Ordinal).ToList();

    /// <summary>Every model's config, sorted by id.</summary>
    public IEnumerable<CheckpointConfig> Models => Ids.Select(id => _models[id]);

    /// <summary>
    /// The default folder: <c>POOLAI_MODELS</c> if set, else <c>models/</c> beside the application
    /// (the build copies the repository's models there), else <c>models/</c> in the repository that
    /// holds the working directory.
    /// </summary>
    public static string DefaultDirectory() => DirectoryOrDefault(null);

    /// <summary>Configuration key that overrides <see cref="DefaultDirectory()"/>.</summary>
    public const string DirectoryKey = "PoolAI:Models:Directory";

    /// <summary><paramref name="configured"/> (the value of <see cref="DirectoryKey"/>) when set, else <see cref="DefaultDirectory()"/>.</summary>
    public static string DirectoryOrDefault(string? configured)
    {
        if (!string.IsNullOrWhiteSpace(configured))
            return configured;
        if (Environment.GetEnvironmentVariable("POOLAI_MODELS") is { Length: > 0 } fromEnvironment)
            return fromEnvironment;
        return RepositoryFiles.Find("models") ?? Path.Combine(AppContext.BaseDirectory, "models");
    }

    /// <summary>True when <paramref name="id"/> is a registered model.</summary>
    public bool Contains(string id) => _models.ContainsKey(id);

    /// <summary>Config of <paramref name="id"/>.</summary>
    /// <exception cref="JobValidationException">Field <c>model</c>: unknown model, listing the known ones.</exception>
    public CheckpointConfig Get(string id) =>
        _models.TryGetValue(id, out var config) ? config : throw UnknownModel(id);

    /// <summary>The tokenizer of <paramref name="id"/> (one token per character), or null for an unknown model.</summary>
    public CharTokenizer? TokenizerOf(string id) => _tokenizers.GetValueOrDefault(id);

    /// <summary>Folder of <paramref name="id"/>'s checkpoint.</summary>
    /// <exception cref="JobValidationException">Field <c>model</c>: unknown model.</exception>
    public string PathOf(string id) => Contains(id) ? Path.Combine(Directory, id) : throw UnknownModel(id);

    /// <summary>
    /// Checks the model-dependent rules of a generation: <paramref name="model"/> exists, is a <paramref name="modelKind"/>
    /// model (<c>text</c> or <c>code</c>, its config's <c>kind</c>), and can encode <paramref name="prompt"/>.
    /// </summary>
    /// <exception cref="JobValidationException">The first rule broken, naming the field (<c>model</c>, <c>prompt</c>).</exception>
    public void Validate(string model, string modelKind, string? prompt)
    {
        var config = Get(model);
        if (!string.Equals(config.Kind, modelKind, StringComparison.Ordinal))
            throw new JobValidationException("model", $"'{model}' is a {config.Kind} model, not a {modelKind} model");
        if (prompt is not null)
            _tokenizers[model].EnsureEncodable(prompt);
    }

    private JobValidationException UnknownModel(string id) =>
        new("model", $"unknown model '{id}'; known models: {(_models.Count == 0 ? "none" : string.Join(", ", Ids))}");
}
