using PoolAI.Jobs;

namespace PoolAI.Models;

/// <summary>
/// Maps model ids to checkpoints: every sub-folder of <see cref="Directory"/> holding a
/// <c>config.json</c> is a model whose id is the folder name. Reads configs only (no tensors), so
/// every process — coordinator, miner, client — can validate jobs against it. Read once when made, and again by
/// <see cref="Refresh"/> when checkpoints arrive (a mirrored model, see <c>MirroredModels</c>); readers see one scan or
/// the next, never half of one. A lookup of a model it does not know reads the folder again first (at most once per
/// <see cref="MissRescanInterval"/>), so a process that shares a models directory with another — a gateway beside a
/// coordinator — knows a model mirrored there from the first request that names it.
/// </summary>
public sealed class ModelRegistry
{
    /// <summary>Least time between two reads of the folder caused by lookups of unknown models.</summary>
    public static readonly TimeSpan MissRescanInterval = TimeSpan.FromSeconds(1);

    private readonly Lock _refreshing = new();
    private volatile Catalog _catalog;
    private long _lastMissScan = long.MinValue / 2; // the first miss reads the folder

    /// <summary>Reads the checkpoints under <paramref name="directory"/>; a missing folder means no models.</summary>
    /// <exception cref="InvalidDataException">A config is not valid.</exception>
    public ModelRegistry(string directory)
    {
        Directory = directory;
        _catalog = Scan(directory, null, null);
    }

    /// <summary>
    /// Reads the folder again, so that checkpoints that arrived since are known (and removed ones forgotten). A folder
    /// whose config cannot be read keeps what was known of it (nothing, for a new one) and is named in the result.
    /// </summary>
    /// <returns>Each folder whose config could not be read, with why; empty when all were read.</returns>
    public IReadOnlyList<string> Refresh()
    {
        var problems = new List<string>();
        lock (_refreshing)
            _catalog = Scan(Directory, _catalog, problems);
        return problems;
    }

    /// <summary>The checkpoints under <paramref name="directory"/>; with <paramref name="problems"/>, a bad config is noted there and <paramref name="previous"/>'s entry kept, else it throws.</summary>
    private static Catalog Scan(string directory, Catalog? previous, List<string>? problems)
    {
        var catalog = new Catalog(new(StringComparer.Ordinal), new(StringComparer.Ordinal));
        if (!System.IO.Directory.Exists(directory))
            return catalog;
        foreach (var folder in System.IO.Directory.EnumerateDirectories(directory).Order(StringComparer.Ordinal))
        {
            if (!File.Exists(Path.Combine(folder, ModelCheckpoint.ConfigFile)))
                continue;
            var id = Path.GetFileName(folder);
            CheckpointConfig config;
            try
            {
                config = ModelCheckpoint.ReadConfig(folder);
            }
            catch (Exception e) when (problems is not null && e is InvalidDataException or System.Text.Json.JsonException or IOException)
            {
                problems.Add($"{id}: {e.Message}");
                if (previous is not null && previous.Models.TryGetValue(id, out var known))
                {
                    catalog.Models[id] = known;
                    catalog.Tokenizers[id] = previous.Tokenizers[id];
                }

                continue;
            }

            catalog.Models[id] = config with { Id = id };
            catalog.Tokenizers[id] = new CharTokenizer(config.Tokenizer!.Vocabulary);
        }

        return catalog;
    }

    /// <summary>The folder scanned.</summary>
    public string Directory { get; }

    /// <summary>Model ids, sorted.</summary>
    public IReadOnlyList<string> Ids => _catalog.Models.Keys.Order(StringComparer.Ordinal).ToList();

    /// <summary>Every model's config, sorted by id.</summary>
    public IEnumerable<CheckpointConfig> Models
    {
        get
        {
            var catalog = _catalog;
            return [.. catalog.Models.Keys.Order(StringComparer.Ordinal).Select(id => catalog.Models[id])];
        }
    }

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
    public bool Contains(string id) => Known(id) is not null;

    /// <summary>Config of <paramref name="id"/>.</summary>
    /// <exception cref="JobValidationException">Field <c>model</c>: unknown model, listing the known ones.</exception>
    public CheckpointConfig Get(string id) => Known(id) ?? throw UnknownModel(id);

    /// <summary>The tokenizer of <paramref name="id"/> (one token per character), or null for an unknown model.</summary>
    public CharTokenizer? TokenizerOf(string id) => _catalog.Tokenizers.GetValueOrDefault(id);

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
        var config = Known(model) ?? throw UnknownModel(model);
        var catalog = _catalog;
        if (!string.Equals(config.Kind, modelKind, StringComparison.Ordinal))
            throw new JobValidationException("model", $"'{model}' is a {config.Kind} model, not a {modelKind} model");
        if (prompt is not null)
            catalog.Tokenizers[model].EnsureEncodable(prompt);
    }

    /// <summary>The config of <paramref name="id"/>, reading the folder again on a miss (rate-limited); null when unknown.</summary>
    private CheckpointConfig? Known(string id)
    {
        if (_catalog.Models.TryGetValue(id, out var config))
            return config;
        var now = Environment.TickCount64;
        var last = Interlocked.Read(ref _lastMissScan);
        if (now - last < (long)MissRescanInterval.TotalMilliseconds)
            return null;
        if (Interlocked.CompareExchange(ref _lastMissScan, now, last) == last)
            Refresh();
        else
        {
            lock (_refreshing) // another lookup is reading the folder now: wait for its scan
            {
            }
        }

        return _catalog.Models.GetValueOrDefault(id);
    }

    private JobValidationException UnknownModel(string id) =>
        new("model", $"unknown model '{id}'; known models: {(_catalog.Models.Count == 0 ? "none" : string.Join(", ", Ids))}");

    /// <summary>One scan of the folder: configs and tokenizers by model id.</summary>
    private sealed record Catalog(Dictionary<string, CheckpointConfig> Models, Dictionary<string, CharTokenizer> Tokenizers);
}
