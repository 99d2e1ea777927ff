using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics;

namespace PoolAI.Gateway.Jobs;

/// <summary>
/// Turns request bodies that cannot be read (malformed JSON, a value of the wrong type, an unknown
/// field) into 400 problem details that name the field, instead of a bare 400; anything else is a 500
/// problem without internals.
/// </summary>
public static class RequestErrors
{
    /// <summary>Handles errors thrown while binding a request.</summary>
    public static IApplicationBuilder UseRequestErrors(this IApplicationBuilder app) => app.UseExceptionHandler(errors => errors.Run(async context =>
    {
        var error = context.Features.Get<IExceptionHandlerFeature>()?.Error;
        if (error is BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge } tooLarge)
        {
            await TypedResults.Problem(title: "Request body too large", detail: tooLarge.Message, statusCode: StatusCodes.Status413PayloadTooLarge).ExecuteAsync(context);
            return;
        }

        if (error is BadHttpRequestException bad)
        {
            var json = bad.InnerException as JsonException;
            var field = json?.Path is { Length: > 1 } path ? path.TrimStart('$', '.') : "body";
            var rule = json is null ? bad.Message : $"is not valid: {FirstSentence(json.Message)}";
            await TypedResults.ValidationProblem(new Dictionary<string, string[]> { [field] = [rule] }).ExecuteAsync(context);
            return;
        }

        await TypedResults.Problem(title: "The pool could not handle this request", statusCode: StatusCodes.Status500InternalServerError).ExecuteAsync(context);
    }));

    private static string FirstSentence(string message)
    {
        var end = message.IndexOf(". ", StringComparison.Ordinal);
        return end > 0 ? message[..(end + 1)] : message;
    }
}
