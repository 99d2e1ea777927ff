namespace PoolAI.Gateway.S3;

/// <summary>
/// An S3 error: the HTTP status, S3's error code and a message, answered as S3's XML error document
/// (<see cref="S3Xml.WriteError"/>). <see cref="S3Errors"/> makes the ones the gateway uses.
/// </summary>
/// <param name="status">HTTP status, e.g. 404.</param>
/// <param name="code">S3's error code, e.g. <c>NoSuchKey</c>.</param>
/// <param name="message">What went wrong, for people.</param>
public sealed class S3ErrorException(int status, string code, string message) : Exception(message)
{
    /// <summary>HTTP status.</summary>
    public int Status { get; } = status;

    /// <summary>S3's error code.</summary>
    public string Code { get; } = code;

    /// <summary>More elements of the error document (S3's <c>ArgumentName</c>, <c>StringToSign</c>, …), in order.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Details { get; init; } = [];

    /// <summary>Headers to answer with (e.g. <c>Content-Range</c> of a 416).</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Headers { get; init; } = [];
}
