using Microsoft.AspNetCore.Http.HttpResults;

namespace PoolAI.Gateway;

/// <summary>
/// Error answers of the HTTP API: RFC 9457 problem details that name the field and the rule, carrying also OpenAI's
/// <c>error</c> object (<c>message</c>, <c>type</c>, <c>param</c>, <c>code</c>) so that OpenAI clients show the reason.
/// </summary>
public static class ApiErrors
{
    /// <summary>400: <paramref name="field"/> breaks <paramref name="rule"/>.</summary>
    public static ValidationProblem Invalid(string field, string rule) => TypedResults.ValidationProblem(
        new Dictionary<string, string[]> { [field] = [rule] },
        detail: $"{field}: {rule}",
        extensions: new Dictionary<string, object?> { ["error"] = OpenAiError($"{field}: {rule}", "invalid_request_error", field, null) });

    /// <summary>404 with a reason.</summary>
    public static ProblemHttpResult NotFound(string detail, string? param = null, string? code = null) => TypedResults.Problem(
        title: "Not found", detail: detail, statusCode: StatusCodes.Status404NotFound,
        extensions: new Dictionary<string, object?> { ["error"] = OpenAiError(detail, "invalid_request_error", param, code) });

    /// <summary>503: the pool is in maintenance; <c>Retry-After</c> 60 s is set by <see cref="MaintenanceRetryAfter"/>.</summary>
    public static ProblemHttpResult Maintenance(PoolAI.Admin.PoolMaintenanceException ex) => TypedResults.Problem(
        title: "The pool is in maintenance", detail: ex.Message, statusCode: StatusCodes.Status503ServiceUnavailable,
        extensions: new Dictionary<string, object?> { ["error"] = OpenAiError(ex.Message, "server_error", null, "maintenance"), ["retry_after_seconds"] = MaintenanceRetryAfter });

    /// <summary>Seconds a client should wait before trying again during maintenance.</summary>
    public const int MaintenanceRetryAfter = 60;

    /// <summary>A problem with <paramref name="status"/>.</summary>
    public static ProblemHttpResult Problem(int status, string title, string detail) => TypedResults.Problem(
        title: title, detail: detail, statusCode: status,
        extensions: new Dictionary<string, object?> { ["error"] = OpenAiError(detail, status >= 500 ? "server_error" : "invalid_request_error", null, null) });

    private static Dictionary<string, object?> OpenAiError(string message, string type, string? param, string? code) =>
        new() { ["message"] = message, ["type"] = type, ["param"] = param, ["code"] = code };
}
