using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using PoolAI.Auth;
using PoolAI.Gateway.Auth;
using PoolAI.Gateway.Binding;
using PoolAI.Gateway.S3.Signing;
using PoolAI.Silo.Hosting;
using PoolAI.Volumes;

namespace PoolAI.Gateway.S3;

/// <summary>
/// An S3-compatible subset at <c>/s3</c> (path-style: <c>/s3/{bucket}/{key}</c>): every volume is a bucket, every
/// file an object. Requests are signed with AWS Signature Version 4 and an API key's S3 credentials
/// (<c>GET /api/s3/credentials</c>); developer and admin keys may use it. Objects live in the
/// <see cref="IS3ObjectStore"/> the services hold; without one every request is answered 501 NotImplemented.
/// </summary>
public static partial class S3Api
{
    /// <summary>Where the API is mapped.</summary>
    public const string Prefix = "/s3";

    /// <summary>The authorization policy: a valid SigV4 signature of a developer or admin key.</summary>
    public const string Policy = "s3";

    /// <summary>The rate-limiting policy (<see cref="S3RateLimitPolicy"/>).</summary>
    public const string RateLimitPolicy = "s3-per-key";

    private static readonly string[] Methods = [HttpMethods.Get, HttpMethods.Head, HttpMethods.Put, HttpMethods.Post, HttpMethods.Delete];

    /// <summary>
    /// Registers the S3 API's settings (<see cref="S3Options"/>), its SigV4 authentication scheme and policy, its rate
    /// limit and the key cache. The object store is registered on its own (<see cref="IS3ObjectStore"/>).
    /// </summary>
    /// <exception cref="PoolConfigurationException">A configured master secret is not base64 of at least 32 bytes; a rate limit below 1.</exception>
    public static IServiceCollection AddS3Api(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<S3Options>().BindConfiguration(S3Options.Section).ValidateDataAnnotations().ValidateOnStart();
        // A bad configured secret stops the gateway at start; a generated one is read when first needed.
        S3MasterSecret.Configured(configuration);
        services.AddSingleton(new S3SecretKeys(() => S3MasterSecret.LoadOrCreate(configuration)));
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<S3KeyCache>();
        services.AddAuthentication().AddScheme<AuthenticationSchemeOptions, S3SigV4Handler>(S3SigV4Handler.SchemeName, null);
        services.AddAuthorizationBuilder().AddPolicy(Policy, p => p.AddAuthenticationSchemes(S3SigV4Handler.SchemeName).RequireRole(ApiRoles.Developer, ApiRoles.Admin));
        var limits = configuration.GetSection(RateLimitOptions.Section).Get<RateLimitOptions>() ?? new RateLimitOptions();
        if (limits.PermitsPerSecond < 1 || limits.Burst < 1)
            throw new PoolConfigurationException(RateLimitOptions.Section, $"PermitsPerSecond and Burst must be at least 1; were {limits.PermitsPerSecond} and {limits.Burst}");
        services.Configure<RateLimiterOptions>(o => o.AddPolicy(RateLimitPolicy, new S3RateLimitPolicy(limits)));
        return services;
    }

    /// <summary>Maps <c>/s3</c> (the S3 protocol; not in the OpenAPI document) and <c>GET /api/s3/credentials</c>.</summary>
    public static IEndpointRouteBuilder MapS3Api(this IEndpointRouteBuilder routes)
    {
        var s3 = routes.MapGroup(Prefix).WithTags("S3").ExcludeFromDescription()
            .RequireAuthorization(Policy).RequireRateLimiting(RateLimitPolicy).WithMetadata(StreamedBody.Metadata);
        s3.MapMethods("/", Methods, HandleAsync);
        s3.MapMethods("/{bucket}/{**key}", Methods, HandleAsync);
        routes.MapS3CredentialsApi();
        return routes;
    }

    /// <summary>Serves one S3 request: finds its operation and runs it; every failure is an S3 error document.</summary>
    public static async Task<IResult> HandleAsync(HttpContext context, IOptions<S3Options> options, ILoggerFactory loggers)
    {
        var target = RequestTarget.Of(context.Request);
        var (bucket, key) = Split(target.Path, context.Request.PathBase);
        try
        {
            var store = context.RequestServices.GetService<IS3ObjectStore>()
                ?? throw S3Errors.NotImplemented("This gateway has no object store: storage volumes are not set up on it.");
            if (bucket is not null && !VolumeNames.IsValid(bucket))
                throw S3Errors.InvalidBucketName(bucket);
            if (key is not null)
                key = VolumeNames.CheckPath(key, "key");
            var call = new S3Call(context, store, target, bucket, key, options.Value);
            return S3Operations.Of(context.Request.Method, bucket, key, target, context.Request.Headers.ContainsKey("x-amz-copy-source")) switch
            {
                S3Operation.ListBuckets => await S3BucketOperations.ListBucketsAsync(call),
                S3Operation.HeadBucket => await S3BucketOperations.HeadBucketAsync(call),
                S3Operation.CreateBucket => await S3BucketOperations.CreateBucketAsync(call),
                S3Operation.GetBucketLocation => await S3BucketOperations.GetLocationAsync(call),
                S3Operation.ListObjects => await S3BucketOperations.ListObjectsAsync(call, version: 1),
                S3Operation.ListObjectsV2 => await S3BucketOperations.ListObjectsAsync(call, version: 2),
                S3Operation.DeleteObjects => await S3BucketOperations.DeleteObjectsAsync(call),
                S3Operation.PutObject => await S3ObjectOperations.PutAsync(call),
                S3Operation.CopyObject => await S3ObjectOperations.CopyAsync(call),
                S3Operation.GetObject => await S3ObjectOperations.GetAsync(call, head: false),
                S3Operation.HeadObject => await S3ObjectOperations.GetAsync(call, head: true),
                S3Operation.DeleteObject => await S3ObjectOperations.DeleteAsync(call),
                S3Operation.CreateMultipartUpload => await S3MultipartOperations.CreateAsync(call),
                S3Operation.UploadPart => await S3MultipartOperations.UploadPartAsync(call),
                S3Operation.CompleteMultipartUpload => await S3MultipartOperations.CompleteAsync(call),
                S3Operation.AbortMultipartUpload => await S3MultipartOperations.AbortAsync(call),
                _ => throw S3Errors.NotImplemented($"{context.Request.Method} {target.Path}{(target.Query.Count > 0 ? "?" + string.Join('&', target.Query.Select(q => q.Key)) : "")} is not an S3 operation this gateway serves."),
            };
        }
        catch (Exception e) when (S3Errors.From(e, key) is { } error)
        {
            return S3Result.Error(error);
        }
        catch (Exception) when (context.RequestAborted.IsCancellationRequested)
        {
            return Results.Empty;
        }
        catch (Exception e)
        {
            LogFailure(loggers.CreateLogger(typeof(S3Api)), e, context.Request.Method, target.Path);
            return S3Result.Error(S3Errors.InternalError());
        }
    }

    /// <summary>The bucket and key of decoded path <paramref name="path"/> (<c>/s3/bucket/key</c>); null where the path stops before them.</summary>
    public static (string? Bucket, string? Key) Split(string path, PathString pathBase)
    {
        var prefix = pathBase.Value + Prefix;
        var rest = path.StartsWith(prefix, StringComparison.Ordinal) ? path[prefix.Length..] : path;
        rest = rest.TrimStart('/');
        if (rest.Length == 0)
            return (null, null);
        var slash = rest.IndexOf('/', StringComparison.Ordinal);
        return slash < 0 ? (rest, null) : (rest[..slash], rest.Length > slash + 1 ? rest[(slash + 1)..] : null);
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "S3 {Method} {Path} failed")]
    private static partial void LogFailure(ILogger logger, Exception exception, string method, string path);
}
