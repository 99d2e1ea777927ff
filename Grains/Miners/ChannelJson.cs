using System.Text.Json;
using System.Text.Json.Serialization;

namespace PoolAI.Miners;

/// <summary>
/// How job inputs and outputs travel on the miner channel: JSON of the kind's own records, read strictly (a field the
/// record does not have, a missing required one, a number written as a string, or nesting deeper than
/// <see cref="MaxDepth"/> is an error), so what an untrusted miner sends is read only as the kind's output type
/// and never as a type it names.
/// </summary>
public static class ChannelJson
{
    /// <summary>Deepest nesting read.</summary>
    public const int MaxDepth = 16;

    /// <summary>The options, for both ends.</summary>
    public static JsonSerializerOptions Options { get; } = new(JsonSerializerDefaults.Web)
    {
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        NumberHandling = JsonNumberHandling.Strict,
        RespectNullableAnnotations = true,
        RespectRequiredConstructorParameters = true,
        MaxDepth = MaxDepth,
    };

    /// <summary>Writes <paramref name="value"/> with the properties of its runtime type.</summary>
    public static string Write(object value) => JsonSerializer.Serialize(value, value.GetType(), Options);

    /// <summary>Reads a <paramref name="type"/> from <paramref name="json"/>.</summary>
    /// <exception cref="JsonException">Not a valid <paramref name="type"/>, with the path of the first problem.</exception>
    public static object Read(string json, Type type) =>
        JsonSerializer.Deserialize(json, type, Options) ?? throw new JsonException($"null is not a {type.Name}");
}
