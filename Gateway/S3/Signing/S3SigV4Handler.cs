using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;
using PoolAI.Auth;

namespace PoolAI.Gateway.S3.Signing;

/// <summary>
/// Authenticates S3 requests by AWS Signature Version 4 (header or presigned URL): the time within 15 minutes of the
/// gateway's (a presigned URL: not expired), the access key naming an API key that exists and is not revoked (as of
/// <see cref="S3Options.KeyRecheckInterval"/>), and the signature, computed with the key's derived secret, equal in
/// constant time. The body is checked later, as it is read (<see cref="Body.S3RequestBody"/>). A refusal is S3's
/// XML error (403 AccessDenied, InvalidAccessKeyId, SignatureDoesNotMatch, RequestTimeTooSkewed; 400 for malformed
/// signatures); a key whose role may not use S3 (a miner's) gets 403 AccessDenied.
/// </summary>
public sealed class S3SigV4Handler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    S3KeyCache keys,
    S3SecretKeys secrets,
    TimeProvider time) : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    /// <summary>The scheme's name.</summary>
    public const string SchemeName = "S3SigV4";

    /// <inheritdoc />
    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        try
        {
            var target = RequestTarget.Of(Request);
            if (SigV4Claim.Read(Request, target) is not { } claim)
                return AuthenticateResult.NoResult();
            CheckTime(claim, time.GetUtcNow());
            var keyId = S3Credentials.KeyIdOf(claim.AccessKeyId)
                ?? throw S3Errors.InvalidAccessKeyId($"The access key id '{claim.AccessKeyId}' is not a PoolAI S3 access key (PAI and 12 hex digits).");
            ApiKeyView? key;
            try
            {
                key = await keys.GetAsync(keyId);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                Logger.LogWarning(e, "S3: could not read API key {KeyId}", keyId);
                throw new S3ErrorException(StatusCodes.Status503ServiceUnavailable, "ServiceUnavailable", "The pool could not check the access key now; retry.");
            }

            if (key is null)
                throw S3Errors.InvalidAccessKeyId($"The access key id '{claim.AccessKeyId}' does not exist.");
            if (key.RevokedAt is not null)
                throw S3Errors.InvalidAccessKeyId($"The access key id '{claim.AccessKeyId}' belongs to an API key revoked at {key.RevokedAt:u}.");

            var payloadHash = claim.Presigned ? SigV4.UnsignedPayload : PayloadHashOf(Request);
            var canonicalRequest = CanonicalRequest(Request, target, claim, payloadHash);
            var stringToSign = SigV4.StringToSign(claim.AmzDate, claim.Scope, canonicalRequest);
            var signingKey = SigV4.SigningKey(secrets.SecretFor(keyId), claim.Date, claim.Region);
            if (!SigV4.SignaturesEqual(SigV4.Sign(signingKey, stringToSign), claim.Signature))
            {
                throw S3Errors.SignatureDoesNotMatch(
                    "The request signature we calculated does not match the signature you provided. Check your key and signing method.", stringToSign, canonicalRequest);
            }

            Context.Features.Set(new S3SignedRequest(keyId, claim, signingKey, payloadHash));
            var identity = new ClaimsIdentity(
                [new Claim("sub", key.Id), new Claim("role", key.Role), new Claim("name", key.Name)], SchemeName, "sub", "role");
            return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName));
        }
        catch (S3ErrorException error)
        {
            return AuthenticateResult.Fail(error);
        }
    }

    /// <inheritdoc />
    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var result = await HandleAuthenticateOnceSafeAsync();
        await S3Result.WriteErrorAsync(Context, result.Failure as S3ErrorException
            ?? S3Errors.AccessDenied("Anonymous requests are not served: sign them with AWS Signature Version 4 and the S3 credentials of a PoolAI API key (GET /api/s3/credentials)."));
    }

    /// <inheritdoc />
    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) => S3Result.WriteErrorAsync(Context, S3Errors.AccessDenied(
        $"The access key's API key has role '{Context.User.FindFirst("role")?.Value}'; S3 is for developer and admin keys."));

    /// <summary>
    /// The canonical request of <paramref name="request"/> as <paramref name="claim"/> signed it: the decoded path
    /// encoded once, the query without <c>X-Amz-Signature</c>, the signed headers (<c>host</c> as sent; several
    /// values joined by commas), and <paramref name="payloadHash"/>.
    /// </summary>
    public static string CanonicalRequest(HttpRequest request, RequestTarget target, SigV4Claim claim, string payloadHash)
    {
        var query = claim.Presigned ? target.Query.Where(p => p.Key != "X-Amz-Signature") : target.Query;
        var headers = claim.SignedHeaders
            .Select(name => new KeyValuePair<string, string>(name, string.Join(',', request.Headers[name].Select(v => SigV4.CanonicalHeaderValue(v ?? "")))))
            .ToList();
        return SigV4.CanonicalRequest(request.Method, target.CanonicalUri, SigV4.CanonicalQuery(query), headers, payloadHash);
    }

    /// <summary>The request's <c>x-amz-content-sha256</c>, which S3 requires with header authentication.</summary>
    /// <exception cref="S3ErrorException">Missing, or neither a SHA-256 nor a payload mode the gateway serves.</exception>
    public static string PayloadHashOf(HttpRequest request)
    {
        var value = request.Headers["x-amz-content-sha256"].ToString();
        if (value.Length == 0)
            throw S3Errors.InvalidRequest("Missing required header for this request: x-amz-content-sha256");
        if (value is SigV4.UnsignedPayload or SigV4.StreamingPayload or SigV4.StreamingPayloadTrailer or SigV4.StreamingUnsignedPayloadTrailer)
            return value;
        if (value.Length == 64 && value.All(char.IsAsciiHexDigit))
            return value.ToLowerInvariant();
        if (value.StartsWith("STREAMING-AWS4-ECDSA", StringComparison.Ordinal))
            throw S3Errors.NotImplemented("AWS Signature Version 4A (ECDSA) is not supported; sign with AWS4-HMAC-SHA256");
        throw S3Errors.InvalidArgument("x-amz-content-sha256", $"must be the body's SHA-256 in hex, {SigV4.UnsignedPayload}, {SigV4.StreamingPayload}, {SigV4.StreamingPayloadTrailer} or {SigV4.StreamingUnsignedPayloadTrailer}", value);
    }

    private static void CheckTime(SigV4Claim claim, DateTimeOffset now)
    {
        if (claim.Expires is { } expires)
        {
            if (claim.Time - now > S3Options.MaxClockSkew)
                throw S3Errors.AccessDenied($"Request is not valid yet: X-Amz-Date {claim.AmzDate} is in the future.");
            if (now > claim.Time + expires)
                throw S3Errors.AccessDenied($"Request has expired: the URL was valid until {(claim.Time + expires).UtcDateTime:yyyy-MM-dd'T'HH:mm:ss'Z'}.");
        }
        else if ((now - claim.Time).Duration() > S3Options.MaxClockSkew)
        {
            throw S3Errors.RequestTimeTooSkewed(claim.Time, now, S3Options.MaxClockSkew);
        }
    }
}
