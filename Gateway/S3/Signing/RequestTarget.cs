using Microsoft.AspNetCore.Http.Features;

namespace PoolAI.Gateway.S3.Signing;

/// <summary>
/// A request's path and query as the client sent them, decoded once: what was signed. ASP.NET's own
/// <see cref="HttpRequest.Path"/> leaves <c>%2F</c> encoded and its query collection reads <c>+</c> as a space; S3
/// does neither.
/// </summary>
/// <param name="Path">The absolute path, percent-decoded (<c>/s3/bucket/a key</c>).</param>
/// <param name="Query">The query parameters in order, names and values percent-decoded; a parameter without <c>=</c> has the value "".</param>
public sealed record RequestTarget(string Path, IReadOnlyList<KeyValuePair<string, string>> Query)
{
    /// <summary>The target of <paramref name="request"/>.</summary>
    public static RequestTarget Of(HttpRequest request)
    {
        var raw = request.HttpContext.Features.Get<IHttpRequestFeature>()?.RawTarget is { Length: > 0 } target
            ? target
            : request.PathBase.Add(request.Path).ToUriComponent() + request.QueryString.ToUriComponent();
        if (!raw.StartsWith('/') && Uri.TryCreate(raw, UriKind.Absolute, out var absolute))
            raw = absolute.PathAndQuery;
        var question = raw.IndexOf('?', StringComparison.Ordinal);
        var path = question < 0 ? raw : raw[..question];
        var query = new List<KeyValuePair<string, string>>();
        if (question >= 0)
        {
            foreach (var pair in raw[(question + 1)..].Split('&', StringSplitOptions.RemoveEmptyEntries))
            {
                var equals = pair.IndexOf('=', StringComparison.Ordinal);
                query.Add(equals < 0
                    ? new(Uri.UnescapeDataString(pair), "")
                    : new(Uri.UnescapeDataString(pair[..equals]), Uri.UnescapeDataString(pair[(equals + 1)..])));
            }
        }

        return new RequestTarget(Uri.UnescapeDataString(path), query);
    }

    /// <summary>The canonical URI of the path (<see cref="SigV4.UriEncode"/>, slashes kept).</summary>
    public string CanonicalUri => Path.Length == 0 ? "/" : SigV4.UriEncode(Path, keepSlash: true);

    /// <summary>The first value of query parameter <paramref name="name"/> (exact case), or null.</summary>
    public string? this[string name] => Query.FirstOrDefault(p => p.Key == name) is { Key: not null } found ? found.Value : null;

    /// <summary>True when the query has parameter <paramref name="name"/> (exact case), with or without a value.</summary>
    public bool Has(string name) => Query.Any(p => p.Key == name);
}
