using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Placement;
using Polly;
using Polly.Retry;
using Polly.Timeout;
using PoolAI.Hosting;
using PoolAI.Jobs;
using PoolAI.Placement;

namespace PoolAI.Webhooks;

/// <summary>Webhook delivery settings (configuration section <c>PoolAI:Webhooks</c>).</summary>
public sealed class WebhookOptions
{
    /// <summary>Configuration section.</summary>
    public const string Section = "PoolAI:Webhooks";

    /// <summary>
    /// The pool's webhook key, base64 (at least 32 bytes); set the same on every coordinator and gateway
    /// (<c>PoolAI__Webhooks__SigningKey</c>). Unset: generated on first start in <c>$POOLAI_HOME/secrets/webhook-signing-key</c>
    /// (enough for the embedded single-machine pool).
    /// </summary>
    public string? SigningKey { get; set; }

    /// <summary>Tries in all, the first included (default 6).</summary>
    public int MaxAttempts { get; set; } = 6;

    /// <summary>Delay before the first retry; doubles each time, with jitter (default 1 s).</summary>
    public TimeSpan FirstRetryDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Longest delay between tries (default 1 min).</summary>
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>How long one try may take (default 10 s).</summary>
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Whether webhooks may go to loopback, private, link-local or unspecified addresses (default false: a requester
    /// must not be able to make the coordinator call into its own network). Turn on for a pool on a private network.
    /// </summary>
    public bool AllowPrivateAddresses { get; set; }

    /// <summary>The key as bytes (configured or generated).</summary>
    public byte[] Key() => SigningKey is { Length: > 0 } configured ? Convert.FromBase64String(configured) : PoolSecrets.LoadOrCreate("webhook-signing-key", 32);
}

/// <summary>Sends webhooks: one pooled HTTP client and a Polly pipeline (per-try timeout inside a bounded exponential retry with jitter).</summary>
public sealed class WebhookSender : IDisposable
{
    private readonly HttpClient _http;
    private readonly WebhookOptions _options;

    /// <summary>Creates the sender.</summary>
    public WebhookSender(IOptions<WebhookOptions> options)
    {
        _options = options.Value;
        Key = _options.Key();
        var handler = new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(2), AllowAutoRedirect = false };
        if (!_options.AllowPrivateAddresses)
            handler.ConnectCallback = ConnectPublicOnlyAsync;
        _http = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
    }

    /// <summary>Whether <paramref name="address"/> is loopback, private (RFC 1918, RFC 4193), link-local, CGNAT or unspecified.</summary>
    public static bool IsPrivate(System.Net.IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
            address = address.MapToIPv4();
        if (System.Net.IPAddress.IsLoopback(address) || address.Equals(System.Net.IPAddress.Any) || address.Equals(System.Net.IPAddress.IPv6Any))
            return true;
        if (address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6)
            return address.IsIPv6LinkLocal || address.IsIPv6SiteLocal || address.IsIPv6UniqueLocal;
        var b = address.GetAddressBytes();
        return b[0] == 10 || (b[0] == 172 && b[1] >= 16 && b[1] <= 31) || (b[0] == 192 && b[1] == 168) || (b[0] == 169 && b[1] == 254)
            || (b[0] == 100 && b[1] >= 64 && b[1] <= 127) || b[0] == 0;
    }

    /// <summary>Connects only to public addresses, checking what the name resolves to (so DNS cannot smuggle in a private one).</summary>
    private static async ValueTask<Stream> ConnectPublicOnlyAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var addresses = await System.Net.Dns.GetHostAddressesAsync(context.DnsEndPoint.Host, cancellationToken).ConfigureAwait(false);
        var allowed = addresses.Where(a => !IsPrivate(a)).ToArray();
        if (allowed.Length == 0)
            throw new HttpRequestException($"refused: {context.DnsEndPoint.Host} is a loopback or private address (PoolAI:Webhooks:AllowPrivateAddresses is off)");
        var socket = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(allowed, context.DnsEndPoint.Port, cancellationToken).ConfigureAwait(false);
            return new System.Net.Sockets.NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>The pool's webhook key.</summary>
    public byte[] Key { get; }

    /// <summary>
    /// Posts <paramref name="body"/> to <paramref name="url"/> until a 2xx answer or <see cref="WebhookOptions.MaxAttempts"/>
    /// tries, reporting each try to <paramref name="report"/>. Every try is signed afresh (new timestamp).
    /// </summary>
    public async Task DeliverAsync(string url, string secret, string body, Guid jobId, int attemptsBefore, Func<WebhookAttempt, Task> report, CancellationToken cancellationToken)
    {
        var number = attemptsBefore;
        var pipeline = new ResiliencePipelineBuilder<HttpResponseMessage>()
            .AddRetry(new RetryStrategyOptions<HttpResponseMessage>
            {
                ShouldHandle = new PredicateBuilder<HttpResponseMessage>().Handle<HttpRequestException>().Handle<TimeoutRejectedException>().HandleResult(r => !r.IsSuccessStatusCode),
                MaxRetryAttempts = Math.Max(0, _options.MaxAttempts - 1 - attemptsBefore),
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = _options.FirstRetryDelay,
                MaxDelay = _options.MaxRetryDelay,
            })
            .AddTimeout(_options.AttemptTimeout)
            .Build();
        if (attemptsBefore >= _options.MaxAttempts)
            return;
        // Polly leaves the captured context by default; the reports write grain state, so they must run on the grain's scheduler.
        var context = ResilienceContextPool.Shared.Get(continueOnCapturedContext: true, cancellationToken);
        try
        {
            using var last = await pipeline.ExecuteAsync(async resilience =>
            {
                var token = resilience.CancellationToken;
                number++;
                var at = DateTimeOffset.UtcNow;
                using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
                request.Headers.Add(WebhookSignature.Header, WebhookSignature.Sign(secret, at.ToUnixTimeSeconds(), body));
                request.Headers.Add("PoolAI-Event", "job.final");
                request.Headers.Add("PoolAI-Delivery", $"{jobId}/{number}");
                try
                {
                    var response = await _http.SendAsync(request, token);
                    await report(new WebhookAttempt(number, at, (int)response.StatusCode, response.IsSuccessStatusCode ? null : $"answered {(int)response.StatusCode}", response.IsSuccessStatusCode));
                    return response;
                }
                catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
                {
                    await report(new WebhookAttempt(number, at, null, ex is OperationCanceledException ? $"no answer within {_options.AttemptTimeout.TotalSeconds:0.#} s" : ex.Message, false));
                    throw;
                }
            }, context);
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    /// <inheritdoc />
    public void Dispose() => _http.Dispose();
}

/// <summary>A webhook's persisted state (state name <c>webhook</c>).</summary>
[GenerateSerializer, Alias("poolai.WebhookState")]
public sealed class WebhookState
{
    /// <summary>Where to post.</summary>
    [Id(0)] public string? Url { get; set; }

    /// <summary>Whose secret signs it.</summary>
    [Id(1)] public string? Requester { get; set; }

    /// <summary>The JSON payload.</summary>
    [Id(2)] public string? Body { get; set; }

    /// <summary>Tries so far.</summary>
    [Id(3)] public int Attempts { get; set; }

    /// <summary>Delivered or given up.</summary>
    [Id(4)] public bool Done { get; set; }
}

/// <summary>
/// Delivers one job's webhook from a coordinator, in the background: the job is final before delivery starts, so a
/// dead endpoint never delays or fails it. Each try is recorded in the job's view. A coordinator crash resumes the
/// delivery when the grain is next activated (the job's settlement starts it again): at least once.
/// </summary>
[CoordinatorFilter]
[Immovable(ImmovableKind.Rebalancer)] // its delivery retries run outside requests; migrating would drop them
public sealed partial class WebhookGrain(
    [PersistentState("webhook", PoolKeys.Storage)] IPersistentState<WebhookState> state,
    WebhookSender sender,
    ILogger<WebhookGrain> logger) : Grain, IWebhookGrain
{
    private Task? _delivery;

    /// <inheritdoc />
    public async Task StartAsync(string url, string requester, string body)
    {
        if (state.State.Url is null)
        {
            state.State.Url = url;
            state.State.Requester = requester;
            state.State.Body = body;
            await state.WriteStateAsync();
        }

        if (!state.State.Done && _delivery is null)
            _delivery = DeliverAsync();
    }

    private async Task DeliverAsync()
    {
        await Task.Yield(); // let StartAsync answer first
        var job = GrainFactory.Reference<IJobGrain>(this.GetPrimaryKey());
        try
        {
            await sender.DeliverAsync(
                state.State.Url!, WebhookSignature.SecretFor(sender.Key, state.State.Requester!), state.State.Body!, this.GetPrimaryKey(), state.State.Attempts,
                async attempt =>
                {
                    state.State.Attempts = attempt.Number;
                    await state.WriteStateAsync();
                    await job.RecordWebhookAttemptAsync(attempt);
                },
                CancellationToken.None);
        }
        catch (Exception ex)
        {
            LogGaveUp(this.GetPrimaryKey(), state.State.Url, state.State.Attempts, ex.Message);
        }

        state.State.Done = true;
        await state.WriteStateAsync();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Webhook of job {JobId} to {Url} not delivered after {Attempts} tries: {Reason}")]
    private partial void LogGaveUp(Guid jobId, string? url, int attempts, string reason);
}
