using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;

namespace PoolAI.Gateway.Binding;

/// <summary>
/// Checks the text of a JSON request body before it is bound: the body must be UTF-8 (RFC 8259 §8.1), and every
/// string in it must be valid Unicode. JSON can escape half of a UTF-16 surrogate pair on its own (<c>"\ud800"</c>),
/// which no .NET string can be read from; without this check such a body failed deep in binding or in a handler (a
/// 500, or "must be a string" for a field that is one). Either fault is a 400 naming the field (<c>body</c> for bytes
/// that are not UTF-8).
/// </summary>
public static class JsonBodyText
{
    /// <summary>
    /// Checks every request with a JSON content type: reads its body (within the configured size limit, so a larger one
    /// still gets 413) and answers 400 through <see cref="ApiErrors.Invalid"/> when <see cref="Check"/> finds a fault;
    /// otherwise the endpoint binds the same bytes. Put it after authentication and rate limiting, so that only callers
    /// the gateway serves have their bodies read. Endpoints marked <see cref="StreamedBody"/> are left alone.
    /// </summary>
    public static IApplicationBuilder UseJsonBodyTextCheck(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        if (context.Request.HasJsonContentType() && context.GetEndpoint()?.Metadata.GetMetadata<StreamedBody>() is null)
        {
            var body = new MemoryStream();
            context.Response.RegisterForDispose(body);
            await context.Request.Body.CopyToAsync(body, context.RequestAborted);
            if (Check(body.GetBuffer().AsSpan(0, (int)body.Length)) is { } fault)
            {
                await ApiErrors.Invalid(fault.Field, fault.Rule).ExecuteAsync(context);
                return;
            }

            body.Position = 0;
            context.Request.Body = body;
        }

        await next(context);
    });

    /// <summary>
    /// The first fault in the text of <paramref name="body"/>, a JSON document: the field (a path such as
    /// <c>messages[0].content</c>; <c>body</c> for the document itself) and the rule it breaks; null when the text is
    /// sound. Malformed JSON is not a fault here: binding reports it.
    /// </summary>
    public static (string Field, string Rule)? Check(ReadOnlySpan<byte> body)
    {
        if (!Utf8.IsValid(body))
        {
            var offset = FirstInvalidByte(body);
            return ("body", $"must be JSON encoded as UTF-8: the byte 0x{body[offset]:X2} at offset {offset} is not UTF-8");
        }

        var reader = new Utf8JsonReader(body);
        var path = new List<Step>();
        try
        {
            while (reader.Read())
            {
                if (reader.TokenType is JsonTokenType.EndObject or JsonTokenType.EndArray)
                {
                    path.RemoveAt(path.Count - 1);
                    continue;
                }

                if (reader.TokenType != JsonTokenType.PropertyName && path.Count > 0 && path[^1].IsArray)
                    path[^1] = path[^1] with { Index = path[^1].Index + 1 };
                if (reader.TokenType is JsonTokenType.String or JsonTokenType.PropertyName && reader.ValueIsEscaped
                    && UnpairedSurrogate(reader.ValueSpan) is { } escape)
                {
                    // A bad field name is reported on the object that holds it.
                    if (reader.TokenType == JsonTokenType.PropertyName)
                        path[^1] = path[^1] with { Property = null };
                    return (Name(path), $"must be valid Unicode text: {escape} is half of a UTF-16 surrogate pair without the other half");
                }

                switch (reader.TokenType)
                {
                    case JsonTokenType.PropertyName:
                        path[^1] = path[^1] with { Property = reader.GetString() };
                        break;
                    case JsonTokenType.StartObject:
                        path.Add(new Step(IsArray: false, Property: null, Index: -1));
                        break;
                    case JsonTokenType.StartArray:
                        path.Add(new Step(IsArray: true, Property: null, Index: -1));
                        break;
                }
            }
        }
        catch (JsonException)
        {
            // Malformed JSON: the binder says where and why.
        }

        return null;
    }

    /// <summary>The first <c>\uXXXX</c> escape in <paramref name="escaped"/> (a JSON string's text as written) that is half of a surrogate pair without the other half, as written; null when none.</summary>
    public static string? UnpairedSurrogate(ReadOnlySpan<byte> escaped)
    {
        for (var i = 0; i < escaped.Length; i++)
        {
            if (escaped[i] != (byte)'\\')
                continue;
            if (escaped[i + 1] != (byte)'u')
            {
                i++;
                continue;
            }

            var unit = Hex(escaped.Slice(i + 2, 4));
            if (char.IsHighSurrogate((char)unit) && i + 11 < escaped.Length && escaped[i + 6] == (byte)'\\' && escaped[i + 7] == (byte)'u'
                && char.IsLowSurrogate((char)Hex(escaped.Slice(i + 8, 4))))
            {
                i += 11;
                continue;
            }

            if (char.IsSurrogate((char)unit))
                return Encoding.ASCII.GetString(escaped.Slice(i, 6));
            i += 5;
        }

        return null;
    }

    private static int FirstInvalidByte(ReadOnlySpan<byte> body)
    {
        var offset = 0;
        while (offset < body.Length && Rune.DecodeFromUtf8(body[offset..], out _, out var consumed) == OperationStatus.Done)
            offset += consumed;
        return offset;
    }

    // The reader has checked that the four characters after \u are hex digits.
    private static int Hex(ReadOnlySpan<byte> digits) => int.Parse(Encoding.ASCII.GetString(digits), System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture);

    private static string Name(List<Step> path)
    {
        var name = new StringBuilder();
        foreach (var step in path)
        {
            if (step.IsArray)
                name.Append('[').Append(step.Index).Append(']');
            else if (step.Property is { } property)
                name.Append(name.Length > 0 ? "." : "").Append(property);
        }

        return name.Length > 0 ? name.ToString() : "body";
    }

    /// <summary>One level of the path to the current token: an array and the index in it, or an object and the field being read.</summary>
    private readonly record struct Step(bool IsArray, string? Property, int Index);
}
