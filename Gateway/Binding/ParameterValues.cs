using System.Buffers;
using System.Text.Json;
using System.Text.Json.Serialization;
using PoolAI.Jobs;

namespace PoolAI.Gateway.Binding;

/// <summary>
/// Reads a task's <c>parameters</c> object, whose values the pool keeps as text: a string as it is, a number as the
/// client wrote it (<c>{"tokens": 64}</c> is <c>"64"</c>), <c>true</c>/<c>false</c> as those words. Anything else (an
/// array, an object, null) is refused naming <c>parameters.NAME</c>; the task then checks each value's own rule.
/// </summary>
public sealed class ParameterValues : JsonConverter<Dictionary<string, string>>
{
    /// <inheritdoc />
    public override Dictionary<string, string> Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
            throw Refused("parameters", "must be an object of named values, e.g. {\"tokens\": 64}");
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
        {
            var name = reader.GetString()!;
            reader.Read();
            values[name] = reader.TokenType switch
            {
                JsonTokenType.String => reader.GetString()!,
                JsonTokenType.Number => System.Text.Encoding.UTF8.GetString(reader.HasValueSequence ? reader.ValueSequence.ToArray() : reader.ValueSpan),
                JsonTokenType.True => "true",
                JsonTokenType.False => "false",
                _ => throw Refused($"parameters.{name}", "must be a string, a number or true/false"),
            };
        }

        return values;
    }

    /// <inheritdoc />
    public override void Write(Utf8JsonWriter writer, Dictionary<string, string> value, JsonSerializerOptions options)
    {
        writer.WriteStartObject();
        foreach (var (name, text) in value)
            writer.WriteString(name, text);
        writer.WriteEndObject();
    }

    private static JsonException Refused(string field, string rule) => new(rule, new JobValidationException(field, rule));
}
