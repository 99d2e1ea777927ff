using System.Buffers;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using PoolAI.Jobs;
using PoolAI.Volumes.Stores;

namespace PoolAI.Volumes;

/// <summary>
/// The shard transport of a trusted silo (see <see cref="ShardTransport"/> for the client): <c>PUT /shards?store=ID&amp;id=SHARD</c>
/// stores the request body as the shard (200 with <c>{"bytes": N, "checksum": "HEX"}</c>, the XxHash128 of what was
/// stored), <c>GET</c> returns it (200 with the bytes, checked against the stored hash; 404 missing and 422 corrupt,
/// with the reason in <c>X-PoolAI-Detail</c>). Every request needs a shard token for the shard's volume
/// (<see cref="ShardTokens"/>, header <see cref="ShardTokens.Header"/>; a put needs a write token): 403 otherwise, with
/// the reason. 400 for a bad store or shard id, 411/413 for a missing or too large body, 503 until the key is known.
/// </summary>
public static class ShardTransportEndpoints
{
    private const string Detail = "X-PoolAI-Detail";

    /// <summary>Maps the transport when this silo has chunk stores, and publishes its address once the web server has started.</summary>
    public static WebApplication MapShardTransport(this WebApplication app)
    {
        if (app.Services.GetService<ShardTransportServer>() is not { } server)
            return app;
        app.MapPut("/shards", PutAsync);
        app.MapGet("/shards", GetAsync);
        app.Lifetime.ApplicationStarted.Register(() => server.Endpoint = EndpointOf(app));
        return app;
    }

    /// <summary>
    /// The URL to announce: the configured one; else none when the cluster uses TLS (the transport is plain HTTP); else the
    /// web server's first HTTP address with a wildcard host replaced by the silo's advertised IP; null for none.
    /// </summary>
    private static string? EndpointOf(WebApplication app)
    {
        var configured = app.Services.GetRequiredService<IOptions<ChunkStoreOptions>>().Value.DataEndpoint;
        if (string.Equals(configured, "none", StringComparison.OrdinalIgnoreCase))
            return null;
        if (!string.IsNullOrWhiteSpace(configured))
            return configured.TrimEnd('/');
        // With cluster TLS the shards' Orleans path is encrypted and this one is plain HTTP: announce it only when configured.
        if (app.Configuration[$"{Silo.Hosting.PoolTls.Section}:CertificatePath"] is { Length: > 0 })
            return null;
        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
        var http = addresses.Select(a => Uri.TryCreate(a.Replace("://+", "://0.0.0.0", StringComparison.Ordinal).Replace("://*", "://0.0.0.0", StringComparison.Ordinal), UriKind.Absolute, out var uri) ? uri : null)
            .FirstOrDefault(u => u is { Scheme: "http" });
        if (http is null)
            return null;
        var advertised = app.Services.GetRequiredService<ILocalSiloDetails>().SiloAddress.Endpoint.Address;
        var host = http.Host is "0.0.0.0" or "[::]" or "::" ? advertised.ToString() : http.Host;
        // A loopback-only server is unreachable from other machines: announce it only on a silo that advertises loopback too.
        if ((http.IsLoopback || host == "localhost") && !IPAddress.IsLoopback(advertised))
            return null;
        if (IPAddress.TryParse(host, out var ip) && ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6)
            host = $"[{host}]";
        return $"http://{host}:{http.Port}";
    }

    private static async Task<IResult> PutAsync(HttpContext http, ShardTransportServer server, ShardStoreSet stores)
    {
        if (Check(http, server, stores, write: true, out var store, out var shard) is { } refused)
            return refused;
        if (http.Request.ContentLength is not { } length)
            return Refuse(StatusCodes.Status411LengthRequired, "a shard put needs Content-Length");
        if (length > ShardIds.MaxShardBytes)
            return Refuse(StatusCodes.Status413PayloadTooLarge, $"a shard holds at most {ShardIds.MaxShardBytes} bytes (got {length})");
        var buffer = ArrayPool<byte>.Shared.Rent((int)length);
        try
        {
            await http.Request.Body.ReadExactlyAsync(buffer.AsMemory(0, (int)length), http.RequestAborted);
            var receipt = await store!.PutAsync(shard!, buffer.AsMemory(0, (int)length), http.RequestAborted);
            return Results.Json(new { bytes = receipt.Bytes, checksum = Convert.ToHexString(receipt.Checksum) });
        }
        catch (EndOfStreamException)
        {
            return Refuse(StatusCodes.Status400BadRequest, "the body is shorter than its Content-Length");
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static async Task<IResult> GetAsync(HttpContext http, ShardTransportServer server, ShardStoreSet stores)
    {
        if (Check(http, server, stores, write: false, out var store, out var shard) is { } refused)
            return refused;
        var read = await store!.GetAsync(shard!, 0, int.MaxValue, http.RequestAborted);
        return read.Status switch
        {
            ShardReadStatus.Ok => Results.Bytes(read.Data, "application/octet-stream"),
            ShardReadStatus.Missing => Refuse(StatusCodes.Status404NotFound, read.Detail ?? "the store does not hold the shard"),
            _ => Refuse(StatusCodes.Status422UnprocessableEntity, read.Detail ?? "the shard no longer matches its checksum"),
        };
    }

    /// <summary>Null when the request names a store of this silo and a shard id, and carries a token that allows the access; else the refusal.</summary>
    private static IResult? Check(HttpContext http, ShardTransportServer server, ShardStoreSet stores, bool write, out ShardStore? store, out string? shard)
    {
        store = null;
        shard = http.Request.Query["id"].ToString();
        if (server.Key is not { } key)
            return Refuse(StatusCodes.Status503ServiceUnavailable, "the shard transport has no token key yet");
        if (stores.Find(http.Request.Query["store"].ToString()) is not { } found)
            return Refuse(StatusCodes.Status400BadRequest, $"store: this silo has no store '{http.Request.Query["store"]}'");
        string volume;
        Guid writeId;
        try
        {
            (volume, writeId, _, _) = ShardIds.Parse(shard);
        }
        catch (JobValidationException e)
        {
            return Refuse(StatusCodes.Status400BadRequest, $"id: {e.Rule}");
        }

        if (ShardTokens.Check(key, http.Request.Headers[ShardTokens.Header].ToString(), volume, write, DateTimeOffset.UtcNow, writeId) is { } why)
            return Refuse(StatusCodes.Status403Forbidden, why);
        store = found;
        return null;
    }

    private static IResult Refuse(int status, string detail) => new DetailResult(status, detail);

    /// <summary>A status with its reason in a header (so that a 404 for a missing shard is told apart from a missing route) and as text.</summary>
    private sealed class DetailResult(int status, string detail) : IResult
    {
        public Task ExecuteAsync(HttpContext http)
        {
            http.Response.StatusCode = status;
            http.Response.Headers[Detail] = new string([.. detail.Select(c => c is >= ' ' and <= '~' ? c : '?')]); // header values are ASCII
            return http.Response.WriteAsync(detail);
        }
    }
}
