namespace PoolAI.Volumes.Stores;

/// <summary>
/// The state of this trusted silo's shard transport (the HTTP endpoint that takes and serves its stores' shards, see
/// <see cref="ShardTransport"/>): the base URL it is reached at, once the web server has started, and the key that the
/// shard tokens it checks are signed with, once the store directory has handed it over. Until both are known the silo
/// announces no transport and writers and readers call its stores' grains.
/// </summary>
public sealed class ShardTransportServer
{
    private volatile string? _endpoint;
    private volatile byte[]? _key;

    /// <summary>Raised when <see cref="Endpoint"/> becomes known, so the stores are announced with it at once.</summary>
    public event Action? EndpointChanged;

    /// <summary>Base URL (<c>http://HOST:PORT</c>) writers and readers reach the transport at; null until known, or when it is off.</summary>
    public string? Endpoint
    {
        get => _endpoint;
        set
        {
            if (_endpoint == value)
                return;
            _endpoint = value;
            EndpointChanged?.Invoke();
        }
    }

    /// <summary>The 32-byte token signing key (<see cref="ShardTokens"/>); null until the store directory gave it.</summary>
    public byte[]? Key
    {
        get => _key;
        set => _key = value;
    }

    /// <summary>The endpoint to announce: known only once the key is too (a transport that cannot check tokens refuses everything).</summary>
    public string? Announced => _key is null ? null : _endpoint;
}
