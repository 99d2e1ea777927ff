using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;

namespace PoolAI.Volumes;

/// <summary>
/// The client side of trusted silos' shard transport: shards put and got over HTTP straight to the silo that stores
/// them (<c>PUT</c>/<c>GET {endpoint}/shards?store=ID&amp;id=SHARD</c> with a <see cref="ShardTokens"/> token), one hop
/// and no Orleans message serialisation, where a grain call would go through the client's gateway silo. Any failure —
/// the endpoint unreachable from here, a refused token, a server error — returns null so the caller uses the store's
/// grain; an endpoint that failed other than by refusing the token is left alone for <see cref="Backoff"/>. Thread-safe; one connection pool per process.
/// </summary>
public static class ShardTransport
{
    /// <summary>How long one put or get (headers and body) may take before it counts as failed.</summary>
    public static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(20);

    /// <summary>How long an endpoint that failed is not tried again.</summary>
    public static readonly TimeSpan Backoff = TimeSpan.FromSeconds(30);

    private static readonly HttpClient Http = new(new SocketsHttpHandler
    {
        MaxConnectionsPerServer = 32,
        PooledConnectionIdleTimeout = TimeSpan.FromMinutes(1),
        ConnectTimeout = TimeSpan.FromSeconds(3),
        UseProxy = false,
        AutomaticDecompression = DecompressionMethods.None,
    })
    { Timeout = TimeSpan.FromSeconds(30) };

    private static readonly ConcurrentDictionary<string, long> DownUntil = new(StringComparer.Ordinal);
    private static long _puts;
    private static long _gets;
    private static long _fallbacks;

    /// <summary>Shards put, shards got, and calls that fell back to the grain, since the process started.</summary>
    public static (long Puts, long Gets, long Fallbacks) Counts => (Interlocked.Read(ref _puts), Interlocked.Read(ref _gets), Interlocked.Read(ref _fallbacks));

    /// <summary>Puts <paramref name="data"/> as shard <paramref name="shard"/> on <paramref name="store"/> at <paramref name="endpoint"/>; null when the transport could not (use the grain).</summary>
    public static async Task<ShardReceipt?> TryPutAsync(string endpoint, string token, string store, string shard, ReadOnlyMemory<byte> data)
    {
        if (IsDown(endpoint))
            return Fallback<ShardReceipt>();
        try
        {
            using var timeout = new CancellationTokenSource(RequestTimeout);
            using var request = new HttpRequestMessage(HttpMethod.Put, Uri(endpoint, store, shard)) { Content = new ReadOnlyMemoryContent(data) };
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            request.Headers.Add(ShardTokens.Header, token);
            using var response = await Http.SendAsync(request, timeout.Token);
            if (response.StatusCode == HttpStatusCode.Forbidden)
                return Fallback<ShardReceipt>(); // this token (expired, say), not the endpoint: others still use it
            if (response.StatusCode != HttpStatusCode.OK)
                return Failed<ShardReceipt>(endpoint);
            var receipt = await response.Content.ReadFromJsonAsync<Receipt>(timeout.Token);
            Interlocked.Increment(ref _puts);
            return receipt is null ? Failed<ShardReceipt>(endpoint) : new ShardReceipt(receipt.Bytes, Convert.FromHexString(receipt.Checksum));
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return Failed<ShardReceipt>(endpoint); // unreachable, timed out, a bad answer or a bad address: the grain takes it
        }
    }

    /// <summary>Shard <paramref name="shard"/> from <paramref name="store"/> at <paramref name="endpoint"/> (verified by the store; missing and corrupt as statuses); null when the transport could not (use the grain).</summary>
    public static async Task<ShardRead?> TryGetAsync(string endpoint, string token, string store, string shard)
    {
        if (IsDown(endpoint))
            return Fallback<ShardRead>();
        try
        {
            // One deadline for the headers and the body: a silo that stalls mid-body must not hold a read (or a rebuild) forever.
            using var timeout = new CancellationTokenSource(RequestTimeout);
            using var request = new HttpRequestMessage(HttpMethod.Get, Uri(endpoint, store, shard));
            request.Headers.Add(ShardTokens.Header, token);
            using var response = await Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            var detail = response.Headers.TryGetValues("X-PoolAI-Detail", out var values) ? values.FirstOrDefault() : null;
            switch (response.StatusCode)
            {
                case HttpStatusCode.OK:
                    var length = response.Content.Headers.ContentLength;
                    if (length is null or < 0 or > ShardIds.MaxShardBytes)
                        return Failed<ShardRead>(endpoint);
                    var data = new byte[length.Value];
                    await using (var body = await response.Content.ReadAsStreamAsync(timeout.Token))
                        await body.ReadExactlyAsync(data, timeout.Token);
                    Interlocked.Increment(ref _gets);
                    return new ShardRead(ShardReadStatus.Ok, data);
                case HttpStatusCode.NotFound when detail is not null:
                    Interlocked.Increment(ref _gets);
                    return new ShardRead(ShardReadStatus.Missing, [], detail);
                case HttpStatusCode.UnprocessableEntity:
                    Interlocked.Increment(ref _gets);
                    return new ShardRead(ShardReadStatus.Corrupt, [], detail);
                case HttpStatusCode.Forbidden:
                    return Fallback<ShardRead>(); // this token (expired, say), not the endpoint: others still use it
                default:
                    return Failed<ShardRead>(endpoint);
            }
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return Failed<ShardRead>(endpoint); // unreachable, timed out, cut short or a bad address: the grain takes it
        }
    }

    private static Uri Uri(string endpoint, string store, string shard) =>
        new($"{endpoint.TrimEnd('/')}/shards?store={System.Uri.EscapeDataString(store)}&id={System.Uri.EscapeDataString(shard)}");

    private static bool IsDown(string endpoint) =>
        DownUntil.TryGetValue(endpoint, out var until) && Environment.TickCount64 < until;

    private static T? Failed<T>(string endpoint)
        where T : class
    {
        DownUntil[endpoint] = Environment.TickCount64 + (long)Backoff.TotalMilliseconds;
        return Fallback<T>();
    }

    private static T? Fallback<T>()
        where T : class
    {
        Interlocked.Increment(ref _fallbacks);
        return null;
    }

    private sealed record Receipt(long Bytes, string Checksum);
}
