using System.Buffers;
using System.Globalization;
using System.Numerics;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace PoolAI.Gateway.Binding;

/// <summary>
/// The rule a number in a request body must meet — its range, whether it must be whole, and the words that state it —
/// checked on the number as the client wrote it, while the body is read. So a value that no .NET number type holds
/// (<c>1e308</c> for a <see cref="float"/>, which would read as infinity; <c>99999999999</c> for an <see cref="int"/>)
/// is refused with the field's own rule and the number as sent, e.g. <c>must be between 0 and 10, was 1e308</c>,
/// never with a type's range.
/// </summary>
public sealed class NumberRule
{
    /// <summary>A rule with its own words: <paramref name="text"/> for a number outside it, <paramref name="typeText"/> (default <paramref name="text"/>) for a value that is not a number or, with <paramref name="integer"/>, not whole.</summary>
    /// <param name="min">Least value allowed.</param>
    /// <param name="max">Greatest value allowed.</param>
    /// <param name="integer">Whether the value must be whole.</param>
    /// <param name="text">The rule, e.g. <c>must be in (0, 1]</c>.</param>
    /// <param name="minExclusive">Whether <paramref name="min"/> itself is refused.</param>
    /// <param name="typeText">The rule for a value of the wrong kind.</param>
    public NumberRule(decimal min, decimal max, bool integer, string text, bool minExclusive = false, string? typeText = null)
    {
        Min = min;
        Max = max;
        Integer = integer;
        Text = text;
        MinExclusive = minExclusive;
        TypeText = typeText ?? text;
    }

    /// <summary>Least value allowed (refused itself when <see cref="MinExclusive"/>).</summary>
    public decimal Min { get; }

    /// <summary>Greatest value allowed.</summary>
    public decimal Max { get; }

    /// <summary>Whether the value must be whole (<c>100</c>, <c>100.0</c> and <c>1e2</c> are).</summary>
    public bool Integer { get; }

    /// <summary>Whether <see cref="Min"/> itself is refused.</summary>
    public bool MinExclusive { get; }

    /// <summary>The rule for a number outside the range, e.g. <c>must be between 1 and 4096</c>.</summary>
    public string Text { get; }

    /// <summary>The rule for a value of the wrong kind, e.g. <c>must be an integer between 1 and 4096</c>.</summary>
    public string TypeText { get; }

    /// <summary>A range whose words are <c>must be between MIN and MAX</c> (and <c>must be an integer between …</c> / <c>must be a number between …</c> for the wrong kind), with <paramref name="note"/> after the range (e.g. <c> (30 days)</c>).</summary>
    public static NumberRule Between(decimal min, decimal max, bool integer, string note = "")
    {
        var range = $"between {Format(min)} and {Format(max)}{note}";
        return new NumberRule(min, max, integer, $"must be {range}", typeText: $"must be {(integer ? "an integer" : "a number")} {range}");
    }

    /// <summary>True when <paramref name="value"/> meets the rule.</summary>
    public bool Allows(decimal value) =>
        value >= Min && value <= Max && !(MinExclusive && value == Min) && (!Integer || value == decimal.Truncate(value));

    /// <summary>Reads the current token of <paramref name="reader"/> as a number that meets the rule.</summary>
    /// <exception cref="NumberRuleException">The token is not a number, or the number breaks the rule; the message is the rule and the value as sent.</exception>
    public decimal Read(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.Number)
            throw new NumberRuleException($"{TypeText}, was {Shown(ref reader)}");
        var written = Written(ref reader);
        // A number no decimal holds is beyond ±7.9e28, so beyond every range a request has.
        if (!decimal.TryParse(written, NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
            throw new NumberRuleException($"{Text}, was {Shorten(written)}");
        if (Integer && value != decimal.Truncate(value))
            throw new NumberRuleException($"{TypeText}, was {Shorten(written)}");
        if (!Allows(value))
            throw new NumberRuleException($"{Text}, was {Shorten(written)}");
        return value;
    }

    private static string Shown(ref Utf8JsonReader reader) => reader.TokenType switch
    {
        JsonTokenType.String => $"\"{Shorten(Written(ref reader))}\"",
        JsonTokenType.True => "true",
        JsonTokenType.False => "false",
        JsonTokenType.Null => "null",
        JsonTokenType.StartArray => "an array",
        _ => "an object",
    };

    private static string Written(ref Utf8JsonReader reader) =>
        Encoding.UTF8.GetString(reader.HasValueSequence ? reader.ValueSequence.ToArray() : reader.ValueSpan);

    private static string Shorten(string text) => text.Length > 40 ? text[..40] + "…" : text;

    private static string Format(decimal value) => value.ToString("0.############################", CultureInfo.InvariantCulture);
}

/// <summary>A number in a request body that breaks its field's <see cref="NumberRule"/>; the message is the rule and the value as sent (the field is the exception's <see cref="JsonException.Path"/>).</summary>
/// <param name="rule">The rule and the value, e.g. <c>must be between 0 and 10, was 1e308</c>.</param>
public sealed class NumberRuleException(string rule) : JsonException(rule)
{
    /// <summary>The rule and the value as sent.</summary>
    public string Rule { get; } = rule;
}

/// <summary>Puts a <see cref="NumberRule"/> of <see cref="RequestNumbers"/> on a numeric property of a request body (<see cref="int"/>, <see cref="long"/>, <see cref="float"/>, <see cref="decimal"/>, or nullable).</summary>
/// <param name="number">Which rule.</param>
[AttributeUsage(AttributeTargets.Property)]
public sealed class NumberRuleAttribute(RequestNumber number) : JsonConverterAttribute
{
    /// <summary>Which rule.</summary>
    public RequestNumber Number { get; } = number;

    /// <summary>The rule itself.</summary>
    public NumberRule Rule => RequestNumbers.For(Number);

    /// <inheritdoc />
    /// <exception cref="InvalidOperationException">The property is not of a supported number type.</exception>
    public override JsonConverter? CreateConverter(Type typeToConvert) => (Nullable.GetUnderlyingType(typeToConvert) ?? typeToConvert) switch
    {
        var t when t == typeof(int) => new RuledNumberConverter<int>(Rule),
        var t when t == typeof(long) => new RuledNumberConverter<long>(Rule),
        var t when t == typeof(float) => new RuledNumberConverter<float>(Rule),
        var t when t == typeof(decimal) => new RuledNumberConverter<decimal>(Rule),
        _ => throw new InvalidOperationException($"{nameof(NumberRuleAttribute)} does not support {typeToConvert}"),
    };

    private sealed class RuledNumberConverter<T>(NumberRule rule) : JsonConverter<T> where T : struct, INumberBase<T>
    {
        // Also called for null, so that a non-nullable field says its rule ("was null"); a nullable one is null without it.
        public override bool HandleNull => true;

        public override T Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            T.CreateSaturating(rule.Read(ref reader));

        public override void Write(Utf8JsonWriter writer, T value, JsonSerializerOptions options) =>
            JsonSerializer.Serialize(writer, value, options);
    }
}

/// <summary>Documents the numbers of request bodies in the OpenAPI document: their type and their rule's range (a property with a custom converter would otherwise have no type).</summary>
public static class NumberRuleSchemas
{
    /// <summary>Adds the schema transformer.</summary>
    public static Microsoft.AspNetCore.OpenApi.OpenApiOptions AddNumberRules(this Microsoft.AspNetCore.OpenApi.OpenApiOptions options) =>
        options.AddSchemaTransformer((schema, context, _) =>
        {
            if (context.JsonPropertyInfo is { } property
                && property.AttributeProvider?.GetCustomAttributes(typeof(NumberRuleAttribute), inherit: false) is [NumberRuleAttribute attribute, ..])
            {
                var rule = attribute.Rule;
                var type = rule.Integer ? Microsoft.OpenApi.JsonSchemaType.Integer : Microsoft.OpenApi.JsonSchemaType.Number;
                schema.Type = Nullable.GetUnderlyingType(property.PropertyType) is null ? type : type | Microsoft.OpenApi.JsonSchemaType.Null;
                if (rule.MinExclusive)
                    schema.ExclusiveMinimum = Format(rule.Min);
                else
                    schema.Minimum = Format(rule.Min);
                if (rule.Max != decimal.MaxValue)
                    schema.Maximum = Format(rule.Max);
            }

            return Task.CompletedTask;
        });

    private static string Format(decimal value) => value.ToString(CultureInfo.InvariantCulture);
}
