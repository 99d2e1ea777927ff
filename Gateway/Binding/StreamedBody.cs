namespace PoolAI.Gateway.Binding;

/// <summary>
/// Endpoint metadata: the endpoint streams its request body itself (S3 objects), whatever its content type says, so
/// the gateway's JSON body check (<see cref="JsonBodyText.UseJsonBodyTextCheck"/>) must not read it into memory.
/// </summary>
public sealed class StreamedBody
{
    /// <summary>The metadata instance.</summary>
    public static readonly StreamedBody Metadata = new();

    private StreamedBody()
    {
    }
}
