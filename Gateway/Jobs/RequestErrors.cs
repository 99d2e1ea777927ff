using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Diagnostics;

namespace PoolAI.Gateway.Jobs;

/// <summary>
/// Turns request bodies that cannot be read (malformed JSON, a value of the wrong type, a number outside its field's
/// rule, an unknown field, no body) into 400 problem details that name the field and say what it must be, in API terms
/// rather than .NET type names;
/// anything else is a 500 problem without internals. Unreadable bodies are the client's error and are not logged as
/// failures.
/// </summary>
public static partial class RequestErrors
{
    /// <summary>Handles errors thrown while binding a request.</summary>
    public static IApplicationBuilder UseRequestErrors(this IApplicationBuilder app) => app.UseExceptionHandler(new ExceptionHandlerOptions
    {
        SuppressDiagnosticsCallback = context => context.Exception is BadHttpRequestException,
        ExceptionHandler = async context =>
        {
            var error = context.Features.Get<IExceptionHandlerFeature>()?.Error;
            if (error is BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge } tooLarge)
            {
                await ApiErrors.Problem(StatusCodes.Status413PayloadTooLarge, "Request body too large", tooLarge.Message).ExecuteAsync(context);
                return;
            }

            if (error is BadHttpRequestException bad)
            {
                var (field, rule) = Describe(bad);
                await ApiErrors.Invalid(field, rule).ExecuteAsync(context);
                return;
            }

            await ApiErrors.Problem(StatusCodes.Status500InternalServerError, "The pool could not handle this request", "an unexpected error; it has been logged").ExecuteAsync(context);
        },
    });

    /// <summary>The field and the rule a bad body broke.</summary>
    public static (string Field, string Rule) Describe(BadHttpRequestException bad)
    {
        if (bad.InnerException is not JsonException json)
            return ("body", bad.Message.Contains("no body was provided", StringComparison.Ordinal) ? "is required: a JSON object" : bad.Message);
        var field = json.Path is { Length: > 1 } path ? path.TrimStart('$', '.') : "body";
        if (json is Binding.NumberRuleException broken)
            return (field, broken.Rule);
        if (json.InnerException is PoolAI.Jobs.JobValidationException rule)
            return (rule.Field, rule.Rule);
        var message = json.Message;
        if (UnknownProperty().Match(message) is { Success: true } unknown)
            return (unknown.Groups[1].Value, "is not a field of this request");
        if (TargetType().Match(message) is { Success: true } target)
            return (field, Expected(target.Groups[1].Value, field));
        return (field, "is not valid JSON here");
    }

    private static string Expected(string type, string field) => type switch
    {
        _ when type.Contains("Dictionary`2", StringComparison.Ordinal) => "must be an object of named values",
        _ when type.Contains(nameof(PoolAI.Jobs.JobTrust), StringComparison.Ordinal) => "must be 'open' or 'trusted'",
        // Numbers of request bodies carry their own rule (NumberRuleAttribute); never show a .NET type's range.
        _ when type.Contains("Int32", StringComparison.Ordinal) || type.Contains("Int64", StringComparison.Ordinal) => "must be an integer",
        _ when type.Contains("Single", StringComparison.Ordinal) || type.Contains("Double", StringComparison.Ordinal) || type.Contains("Decimal", StringComparison.Ordinal) => "must be a number",
        _ when type.Contains("Boolean", StringComparison.Ordinal) => "must be true or false",
        _ when type.Contains("String[]", StringComparison.Ordinal) || type.Contains("List`1[System.String]", StringComparison.Ordinal) => "must be an array of strings",
        _ when type.Contains("System.String", StringComparison.Ordinal) => "must be a string",
        _ when type.Contains("List`1", StringComparison.Ordinal) => "must be an array",
        _ when field == "body" => "must be a JSON object",
        _ => "must be a JSON object",
    };

    [GeneratedRegex(@"The JSON property '([^']+)' could not be mapped")]
    private static partial Regex UnknownProperty();

    [GeneratedRegex(@"could not be converted to ([^\s]+?)\.(?:\s|$)")]
    private static partial Regex TargetType();
}
