using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using PoolAI.Auth;

namespace PoolAI.Gateway.S3.Signing;

/// <summary>
/// The API keys behind S3 access keys, each read from its grain at most once per
/// <see cref="S3Options.KeyRecheckInterval"/>: a revoked key stops working within that interval, and a busy client
/// costs its key's grain one call per interval rather than one per request. Keys that do not exist are not cached.
/// </summary>
public sealed class S3KeyCache(IGrainFactory grains, IOptions<S3Options> options, TimeProvider time)
{
    /// <summary>Most keys remembered; past it the cache starts over.</summary>
    public const int Capacity = 10_000;

    private readonly ConcurrentDictionary<string, (ApiKeyView Key, DateTimeOffset ReadAt)> _keys = new(StringComparer.Ordinal);

    /// <summary>The key with id <paramref name="keyId"/> as of at most one recheck interval ago, or null when there is none.</summary>
    public async Task<ApiKeyView?> GetAsync(string keyId)
    {
        var now = time.GetUtcNow();
        if (_keys.TryGetValue(keyId, out var cached) && now - cached.ReadAt < options.Value.KeyRecheckInterval)
            return cached.Key;
        var key = await grains.GetGrain<IApiKeyGrain>(keyId).GetAsync();
        if (key is null)
        {
            _keys.TryRemove(keyId, out _);
            return null;
        }

        if (_keys.Count >= Capacity)
            _keys.Clear();
        _keys[keyId] = (key, now);
        return key;
    }
}
