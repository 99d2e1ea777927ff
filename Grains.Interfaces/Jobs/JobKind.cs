using System.Text.Json;
using System.Text.Json.Serialization;

namespace PoolAI.Jobs;

/// <summary>
/// What a job asks the pool to do, by name: <c>TextGeneration</c>, <c>System</c>, or any kind a silo registers with
/// its executor (see <c>JobKindRegistry</c> in the Grains project). Kinds are an open set, so adding one touches no grain;
/// the pool accepts a job only when a kind of that name is registered. Names compare ignoring case, <c>-</c> and
/// <c>_</c> (<c>text-generation</c> is <see cref="TextGeneration"/>), and are stored in their canonical spelling.
/// Stored jobs written when kinds were an enum read back as the same kind (see <see cref="JobKindCodec"/>).
/// </summary>
[JsonConverter(typeof(JobKindJsonConverter))]
public readonly struct JobKind : IEquatable<JobKind>
{
    /// <summary>Longest kind name, characters.</summary>
    public const int MaxNameLength = 64;

    private readonly string? _name;

    /// <summary>The kind named <paramref name="name"/>, spelt canonically when it is a built-in one.</summary>
    /// <exception cref="JobValidationException">Not a name (field <c>kind</c>): letters and digits, starting with a letter, at most 64.</exception>
    public JobKind(string name)
    {
        var key = Key(name);
        if (key.Length is 0 or > MaxNameLength || !char.IsAsciiLetter(key[0]) || !key.All(char.IsAsciiLetterOrDigit))
            throw new JobValidationException("kind", $"must be a kind name (letters and digits, starting with a letter, at most {MaxNameLength}; for example {string.Join(", ", BuiltIn.Select(k => k.Name))}); was '{name}'");
        _name = BuiltIn.FirstOrDefault(k => k.Name.Equals(key, StringComparison.OrdinalIgnoreCase))._name ?? key;
    }

    private JobKind(string canonical, bool _) => _name = canonical;

    /// <summary>Generate text with a language model from a prompt. Input <see cref="GenerationSettings"/>, output <see cref="TextOutput"/>.</summary>
    public static readonly JobKind TextGeneration = new("TextGeneration", true);

    /// <summary>Generate code with a code model from a prompt.</summary>
    public static readonly JobKind CodeGeneration = new("CodeGeneration", true);

    /// <summary>Generate images.</summary>
    public static readonly JobKind ImageGeneration = new("ImageGeneration", true);

    /// <summary>Train or fine-tune a model on a data set.</summary>
    public static readonly JobKind Training = new("Training", true);

    /// <summary>Preprocess, augment, validate or sync a data set.</summary>
    public static readonly JobKind DataProcessing = new("DataProcessing", true);

    /// <summary>Pool maintenance and measurement (see <see cref="SystemTasks"/>). Input <see cref="SystemTaskInput"/>.</summary>
    public static readonly JobKind System = new("System", true);

    /// <summary>The seed's kinds, in the order of the enum that stored jobs were written with.</summary>
    public static IReadOnlyList<JobKind> BuiltIn { get; } = [TextGeneration, CodeGeneration, ImageGeneration, Training, DataProcessing, System];

    /// <summary>The canonical name. A default value is <see cref="TextGeneration"/>, as the enum's 0 was.</summary>
    public string Name => _name ?? "TextGeneration";

    /// <summary>The kind a stored enum value meant (0 = TextGeneration … 5 = System).</summary>
    public static JobKind FromLegacy(int value) =>
        value >= 0 && value < BuiltIn.Count ? BuiltIn[value] : new JobKind($"Legacy{value}", true);

    /// <summary>Parses a kind name as users write it; false with a reason when it is not one.</summary>
    public static bool TryParse(string? text, out JobKind kind, out string? error)
    {
        try
        {
            kind = new JobKind(text ?? string.Empty);
            error = null;
            return true;
        }
        catch (JobValidationException ex)
        {
            kind = default;
            error = ex.Rule;
            return false;
        }
    }

    /// <inheritdoc />
    public bool Equals(JobKind other) => string.Equals(Name, other.Name, StringComparison.Ordinal);

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is JobKind other && Equals(other);

    /// <inheritdoc />
    public override int GetHashCode() => StringComparer.Ordinal.GetHashCode(Name);

    /// <summary>The canonical name.</summary>
    public override string ToString() => Name;

    /// <summary>Same kind.</summary>
    public static bool operator ==(JobKind left, JobKind right) => left.Equals(right);

    /// <summary>Different kinds.</summary>
    public static bool operator !=(JobKind left, JobKind right) => !left.Equals(right);

    private static string Key(string name) => string.Concat((name ?? string.Empty).Trim().Where(c => c is not ('-' or '_' or ' ')));
}

/// <summary>Writes a <see cref="JobKind"/> as its name; reads any spelling <see cref="JobKind"/> accepts.</summary>
public sealed class JobKindJsonConverter : JsonConverter<JobKind>
{
    /// <inheritdoc />
    public override JobKind Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        // The JobValidationException inside says which rule was broken, for APIs that answer with the field and rule.
        if (reader.TokenType != JsonTokenType.String)
        {
            const string rule = "must be a job kind's name, a string (such as TextGeneration or System)";
            throw new JsonException(rule, new JobValidationException("kind", rule));
        }

        if (!JobKind.TryParse(reader.GetString(), out var kind, out var error))
            throw new JsonException(error, new JobValidationException("kind", error!));
        return kind;
    }

    /// <inheritdoc />
    public override void Write(Utf8JsonWriter writer, JobKind value, JsonSerializerOptions options) => writer.WriteStringValue(value.Name);
}
