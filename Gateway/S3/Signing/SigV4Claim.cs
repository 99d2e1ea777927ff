using System.Globalization;

namespace PoolAI.Gateway.S3.Signing;

/// <summary>
/// What a request's AWS Signature Version 4 claims, read from its <c>Authorization</c> header
/// (<c>AWS4-HMAC-SHA256 Credential=AKID/yyyyMMdd/region/s3/aws4_request, SignedHeaders=a;b, Signature=hex</c>) or
/// from a presigned URL's query (<c>X-Amz-Algorithm</c>, <c>X-Amz-Credential</c>, <c>X-Amz-Date</c>,
/// <c>X-Amz-Expires</c>, <c>X-Amz-SignedHeaders</c>, <c>X-Amz-Signature</c>).
/// </summary>
/// <param name="AccessKeyId">The access key id.</param>
/// <param name="Date">The scope's date, <c>yyyyMMdd</c>.</param>
/// <param name="Region">The scope's region (any is accepted).</param>
/// <param name="SignedHeaders">The signed header names, lower case, in the order signed.</param>
/// <param name="Signature">The signature, 64 hex digits.</param>
/// <param name="AmzDate">The request time as signed (<see cref="SigV4.TimeFormat"/>).</param>
/// <param name="Time">The request time.</param>
/// <param name="Expires">A presigned URL's lifetime from <see cref="Time"/>; null for header authentication.</param>
public sealed record SigV4Claim(
    string AccessKeyId,
    string Date,
    string Region,
    IReadOnlyList<string> SignedHeaders,
    string Signature,
    string AmzDate,
    DateTimeOffset Time,
    TimeSpan? Expires)
{
    /// <summary>Longest lifetime of a presigned URL: 7 days, as S3.</summary>
    public static readonly TimeSpan MaxExpires = TimeSpan.FromDays(7);

    /// <summary>True for a presigned URL.</summary>
    public bool Presigned => Expires is not null;

    /// <summary>The credential scope.</summary>
    public string Scope => SigV4.Scope(Date, Region);

    /// <summary>The claim of <paramref name="request"/> (whose target is <paramref name="target"/>); null when it carries no signature.</summary>
    /// <exception cref="S3ErrorException">A signature of another kind, or a malformed one.</exception>
    public static SigV4Claim? Read(HttpRequest request, RequestTarget target)
    {
        var authorization = request.Headers.Authorization.ToString();
        var presigned = target.Has("X-Amz-Algorithm") || target.Has("X-Amz-Signature");
        if (authorization.Length > 0 && presigned)
            throw S3Errors.InvalidArgument("Authorization", "only one authentication mechanism is allowed: the Authorization header or a presigned URL's X-Amz-* parameters");
        if (presigned)
            return FromQuery(target);
        if (authorization.Length == 0)
            return null;
        if (authorization.StartsWith("AWS ", StringComparison.Ordinal))
            throw S3Errors.InvalidRequest($"AWS Signature Version 2 is not supported; sign with {SigV4.Algorithm} (Signature Version 4)");
        if (!authorization.StartsWith(SigV4.Algorithm + " ", StringComparison.Ordinal))
            throw S3Errors.InvalidArgument("Authorization", $"must be {SigV4.Algorithm} (AWS Signature Version 4) with the S3 credentials of a PoolAI API key (GET /api/s3/credentials)");
        return FromHeader(request, authorization[(SigV4.Algorithm.Length + 1)..]);
    }

    private static SigV4Claim FromHeader(HttpRequest request, string parameters)
    {
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var part in parameters.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var equals = part.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
                throw S3Errors.AuthorizationHeaderMalformed($"the Authorization header's '{part}' is not name=value");
            fields[part[..equals].Trim()] = part[(equals + 1)..].Trim();
        }

        string Field(string name) => fields.TryGetValue(name, out var value) && value.Length > 0
            ? value
            : throw S3Errors.AuthorizationHeaderMalformed($"the Authorization header lacks {name}=");
        var (accessKey, date, region) = Credential(Field("Credential"), S3Errors.AuthorizationHeaderMalformed);
        var signedHeaders = SignedHeaderNames(Field("SignedHeaders"), S3Errors.AuthorizationHeaderMalformed);
        var signature = CheckSignature(Field("Signature"), S3Errors.AuthorizationHeaderMalformed);

        string amzDate;
        DateTimeOffset time;
        if (request.Headers["x-amz-date"].ToString() is { Length: > 0 } xAmzDate)
        {
            amzDate = xAmzDate;
            time = ParseAmzDate(xAmzDate) ?? throw S3Errors.AccessDenied($"x-amz-date must be a time as {SigV4.TimeFormat} (got '{xAmzDate}')");
            if (!signedHeaders.Contains("x-amz-date"))
                throw S3Errors.AuthorizationHeaderMalformed("SignedHeaders must include x-amz-date");
        }
        else if (DateTimeOffset.TryParseExact(request.Headers.Date.ToString(), "r", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var httpDate))
        {
            time = httpDate;
            amzDate = httpDate.UtcDateTime.ToString(SigV4.TimeFormat, CultureInfo.InvariantCulture);
            if (!signedHeaders.Contains("date"))
                throw S3Errors.AuthorizationHeaderMalformed("SignedHeaders must include date");
        }
        else
        {
            throw S3Errors.AccessDenied("AWS authentication requires a valid Date or x-amz-date header");
        }

        if (amzDate[..8] != date)
            throw S3Errors.AuthorizationHeaderMalformed($"the credential's date {date} is not the request's date {amzDate[..8]}");
        return new SigV4Claim(accessKey, date, region, signedHeaders, signature, amzDate, time, Expires: null);
    }

    private static SigV4Claim FromQuery(RequestTarget target)
    {
        string Parameter(string name) => target[name] is { Length: > 0 } value
            ? value
            : throw S3Errors.AuthorizationQueryParametersError($"a presigned URL needs {name}");
        if (Parameter("X-Amz-Algorithm") != SigV4.Algorithm)
            throw S3Errors.AuthorizationQueryParametersError($"X-Amz-Algorithm must be {SigV4.Algorithm}");
        var (accessKey, date, region) = Credential(Parameter("X-Amz-Credential"), S3Errors.AuthorizationQueryParametersError);
        var signedHeaders = SignedHeaderNames(Parameter("X-Amz-SignedHeaders"), S3Errors.AuthorizationQueryParametersError);
        var signature = CheckSignature(Parameter("X-Amz-Signature"), S3Errors.AuthorizationQueryParametersError);
        var amzDate = Parameter("X-Amz-Date");
        var time = ParseAmzDate(amzDate) ?? throw S3Errors.AuthorizationQueryParametersError($"X-Amz-Date must be a time as {SigV4.TimeFormat} (got '{amzDate}')");
        if (amzDate[..8] != date)
            throw S3Errors.AuthorizationQueryParametersError($"the credential's date {date} is not X-Amz-Date's date {amzDate[..8]}");
        var expires = Parameter("X-Amz-Expires");
        if (!long.TryParse(expires, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds) || seconds < 1 || seconds > MaxExpires.TotalSeconds)
            throw S3Errors.AuthorizationQueryParametersError($"X-Amz-Expires must be a whole number of seconds from 1 to {MaxExpires.TotalSeconds:0} (got '{expires}')");
        return new SigV4Claim(accessKey, date, region, signedHeaders, signature, amzDate, time, TimeSpan.FromSeconds(seconds));
    }

    private static (string AccessKey, string Date, string Region) Credential(string credential, Func<string, S3ErrorException> malformed)
    {
        var parts = credential.Split('/');
        if (parts.Length != 5 || parts[0].Length == 0 || parts[2].Length == 0)
            throw malformed($"the credential must be ACCESS_KEY_ID/yyyyMMdd/region/s3/aws4_request (got '{credential}')");
        if (parts[1].Length != 8 || !parts[1].All(char.IsAsciiDigit))
            throw malformed($"the credential's date must be yyyyMMdd (got '{parts[1]}')");
        if (parts[3] != SigV4.Service)
            throw malformed($"the credential's service must be '{SigV4.Service}' (got '{parts[3]}')");
        if (parts[4] != SigV4.Terminator)
            throw malformed($"the credential must end with '{SigV4.Terminator}' (got '{parts[4]}')");
        return (parts[0], parts[1], parts[2]);
    }

    private static IReadOnlyList<string> SignedHeaderNames(string list, Func<string, S3ErrorException> malformed)
    {
        var names = list.Split(';');
        if (names.Any(n => n.Length == 0 || n != n.ToLowerInvariant()))
            throw malformed($"SignedHeaders must be lower-case header names separated by ';' (got '{list}')");
        return names.Contains("host") ? names : throw malformed("SignedHeaders must include host");
    }

    private static string CheckSignature(string signature, Func<string, S3ErrorException> malformed) =>
        signature.Length == 64 && signature.All(char.IsAsciiHexDigit)
            ? signature
            : throw malformed("the signature must be 64 hex digits");

    private static DateTimeOffset? ParseAmzDate(string text) =>
        DateTimeOffset.TryParseExact(text, SigV4.TimeFormat, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var time)
            ? time
            : null;
}
