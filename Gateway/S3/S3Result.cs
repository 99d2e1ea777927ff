using Microsoft.AspNetCore.Diagnostics;
using PoolAI.Gateway.S3.Signing;

namespace PoolAI.Gateway.S3;

/// <summary>An S3 answer: XML, an empty status with headers, or an error document; every one carries <c>x-amz-request-id</c>.</summary>
/// <param name="write">Writes the answer.</param>
public sealed class S3Result(Func<HttpContext, Task> write) : IResult
{
    private const string RequestIdItem = "poolai.s3.request-id";

    /// <inheritdoc />
    public Task ExecuteAsync(HttpContext httpContext) => write(httpContext);

    /// <summary>200 (or <paramref name="status"/>) with an XML body.</summary>
    public static S3Result Xml(byte[] body, int status = StatusCodes.Status200OK) => new(context =>
    {
        Begin(context, status);
        context.Response.ContentType = "application/xml";
        context.Response.ContentLength = body.Length;
        return context.Response.Body.WriteAsync(body, context.RequestAborted).AsTask();
    });

    /// <summary><paramref name="status"/> with no body and <paramref name="headers"/>.</summary>
    public static S3Result Empty(int status, params IEnumerable<KeyValuePair<string, string>> headers) => new(context =>
    {
        Begin(context, status);
        foreach (var (name, value) in headers)
            context.Response.Headers[name] = value;
        if (status != StatusCodes.Status204NoContent && status != StatusCodes.Status304NotModified)
            context.Response.ContentLength = 0;
        return Task.CompletedTask;
    });

    /// <summary>The error document of <paramref name="error"/> (no body for HEAD, as S3).</summary>
    public static S3Result Error(S3ErrorException error) => new(context => WriteErrorAsync(context, error));

    /// <summary>Writes the error document of <paramref name="error"/> (no body for HEAD, as S3).</summary>
    public static Task WriteErrorAsync(HttpContext context, S3ErrorException error)
    {
        if (context.Response.HasStarted)
        {
            // Too late for a status: end the response so that the client sees a broken body, never a complete one.
            context.Abort();
            return Task.CompletedTask;
        }

        context.Response.Clear();
        Begin(context, error.Status);
        foreach (var (name, value) in error.Headers)
            context.Response.Headers[name] = value;
        if (HttpMethods.IsHead(context.Request.Method))
            return Task.CompletedTask;
        var body = S3Xml.WriteError(error, RequestTarget.Of(context.Request).Path, RequestId(context));
        context.Response.ContentType = "application/xml";
        context.Response.ContentLength = body.Length;
        return context.Response.Body.WriteAsync(body, context.RequestAborted).AsTask();
    }

    /// <summary>The request's id (16 upper-case hex digits, as S3's), made on first use.</summary>
    public static string RequestId(HttpContext context)
    {
        if (context.Items.TryGetValue(RequestIdItem, out var id) && id is string text)
            return text;
        text = Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(8));
        context.Items[RequestIdItem] = text;
        return text;
    }

    private static void Begin(HttpContext context, int status)
    {
        // S3 answers are complete as written: no problem-details body on an empty 4xx.
        if (context.Features.Get<IStatusCodePagesFeature>() is { } pages)
            pages.Enabled = false;
        context.Response.StatusCode = status;
        context.Response.Headers["x-amz-request-id"] = RequestId(context);
    }
}
