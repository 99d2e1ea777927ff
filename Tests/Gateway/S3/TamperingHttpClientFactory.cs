using Amazon.Runtime;

namespace PoolAI.Tests.Gateway.S3;

/// <summary>
/// HTTP clients for the S3 SDK that change one byte of every PUT body after the SDK has signed it, as a
/// man in the middle would: the first data byte of an aws-chunked body (after the first chunk header), else the first.
/// </summary>
public sealed class TamperingHttpClientFactory : HttpClientFactory
{
    /// <inheritdoc />
    public override HttpClient CreateHttpClient(IClientConfig clientConfig) => Create(new HttpClientHandler());

    /// <summary>A client that tampers with PUT bodies and sends through <paramref name="inner"/>.</summary>
    public static HttpClient Create(HttpMessageHandler inner) => new(new Tamper(inner));

    /// <inheritdoc />
    public override bool UseSDKHttpClientCaching(IClientConfig clientConfig) => false;

    private sealed class Tamper(HttpMessageHandler inner) : DelegatingHandler(inner)
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (request.Method == HttpMethod.Put && request.Content is { } content)
            {
                var bytes = await content.ReadAsByteArrayAsync(cancellationToken);
                if (bytes.Length > 0)
                {
                    var chunked = content.Headers.ContentEncoding.Contains("aws-chunked");
                    var at = chunked ? Array.IndexOf(bytes, (byte)'\n') + 1 : 0;
                    bytes[at] ^= 0x01;
                }

                var changed = new ByteArrayContent(bytes);
                foreach (var header in content.Headers)
                    changed.Headers.TryAddWithoutValidation(header.Key, header.Value);
                request.Content = changed;
            }

            return await base.SendAsync(request, cancellationToken);
        }
    }
}
