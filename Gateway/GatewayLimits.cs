namespace PoolAI.Gateway;

/// <summary>Request limits of the gateway (configuration section <c>PoolAI:Gateway:Limits</c>).</summary>
public sealed class GatewayLimits
{
    /// <summary>Configuration section.</summary>
    public const string Section = "PoolAI:Gateway:Limits";

    /// <summary>Largest request body, bytes (default 1 MiB); a larger one is answered 413.</summary>
    public long MaxRequestBytes { get; set; } = 1024 * 1024;
}
