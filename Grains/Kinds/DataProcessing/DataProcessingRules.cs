using System.Text;
using PoolAI.Jobs;
using PoolAI.Volumes;

namespace PoolAI.Kinds.DataProcessing;

/// <summary>
/// The rules a <see cref="JobKind.DataProcessing"/> job's input must satisfy, checked when the job is submitted and again
/// by the executor. Fields are named as the job's input spells them in JSON (<c>input.bucket_prefix</c>); no message
/// repeats a credential.
/// </summary>
public static class DataProcessingRules
{
    /// <summary>Longest <see cref="DataProcessingInput.Endpoint"/>, characters.</summary>
    public const int MaxEndpointLength = 2048;

    /// <summary>Longest access key id, characters.</summary>
    public const int MaxAccessKeyIdLength = 128;

    /// <summary>Longest secret access key, characters.</summary>
    public const int MaxSecretLength = 256;

    /// <summary>Checks a job's target (<paramref name="model"/>) and input.</summary>
    /// <exception cref="JobValidationException">The first rule broken: <c>input.operation</c>, <c>model</c>, then the operation's fields.</exception>
    public static void Validate(string model, DataProcessingInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (!DataOperations.Contains(input.Operation))
            throw new JobValidationException("input.operation", $"must be one of {string.Join(", ", DataOperations.All)}; was '{input.Operation}'");
        if (model != input.Operation)
            throw new JobValidationException("model", $"must be the job's operation '{input.Operation}'; was '{model}'");
        ValidateSync(input);
    }

    /// <summary>Checks the fields of a <see cref="DataOperations.Sync"/>.</summary>
    /// <exception cref="JobValidationException">Field <c>input.direction</c>, <c>input.volume</c>, <c>input.prefix</c>,
    /// <c>input.endpoint</c>, <c>input.bucket</c>, <c>input.bucket_prefix</c>, <c>input.access_key_id</c>,
    /// <c>input.secret_access_key</c> or <c>input.region</c>: the rule it breaks.</exception>
    public static void ValidateSync(DataProcessingInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (string.IsNullOrEmpty(input.Direction))
            throw new JobValidationException("input.direction", "is required: 'push' (volume → bucket) or 'pull' (bucket → volume)");
        if (input.Direction is not (SyncDirections.Push or SyncDirections.Pull))
            throw new JobValidationException("input.direction", $"must be 'push' (volume → bucket) or 'pull' (bucket → volume); was '{input.Direction}'");
        VolumeNames.CheckName(input.Volume, "input.volume");
        VolumeFolder(input.Prefix);
        Endpoint(input.Endpoint);
        if (string.IsNullOrEmpty(input.Bucket))
            throw new JobValidationException("input.bucket", "is required: the bucket to mirror (on another pool: a volume's name)");
        if (!IsBucketName(input.Bucket))
            throw new JobValidationException("input.bucket", $"must be a bucket name: 3 to 63 characters of a-z, 0-9, '.' and '-', starting and ending with a letter or digit; was '{input.Bucket}'");
        BucketFolder(input.BucketPrefix);
        Credential(input.AccessKeyId, "input.access_key_id", "the S3 access key id", MaxAccessKeyIdLength);
        Credential(input.SecretAccessKey, "input.secret_access_key", "the S3 secret access key", MaxSecretLength);
        if (input.Region is { } region && (region.Length is 0 or > 64 || !region.All(c => c is >= 'a' and <= 'z' or >= '0' and <= '9' or '-')))
            throw new JobValidationException("input.region", $"must be a region name such as us-east-1 (1 to 64 characters of a-z, 0-9 and '-'), or omitted; was '{region}'");
    }

    /// <summary>
    /// <see cref="DataProcessingInput.Prefix"/> as a folder of the volume: empty for the whole volume, else a valid path
    /// (see <see cref="VolumeNames.CheckPath"/>) followed by <c>/</c>.
    /// </summary>
    /// <exception cref="JobValidationException">Field <c>input.prefix</c>: starts with <c>/</c> or is not a path.</exception>
    public static string VolumeFolder(string? prefix)
    {
        if (string.IsNullOrEmpty(prefix))
            return string.Empty;
        if (prefix.StartsWith('/'))
            throw new JobValidationException("input.prefix", $"must be a folder of the volume without a leading '/' (such as data/); was '{prefix}'");
        return VolumeNames.CheckPath(prefix.TrimEnd('/'), "input.prefix") + "/";
    }

    /// <summary><see cref="DataProcessingInput.BucketPrefix"/> as a folder of the bucket: empty for the whole bucket, else the prefix ending in <c>/</c>.</summary>
    /// <exception cref="JobValidationException">Field <c>input.bucket_prefix</c>: starts with <c>/</c>, holds a control character, or is over 1024 UTF-8 bytes.</exception>
    public static string BucketFolder(string? prefix)
    {
        if (string.IsNullOrEmpty(prefix))
            return string.Empty;
        if (prefix.StartsWith('/') || prefix.Any(char.IsControl) || Encoding.UTF8.GetByteCount(prefix) > VolumeNames.MaxPathBytes - 1)
            throw new JobValidationException("input.bucket_prefix", $"must be a folder of the bucket without a leading '/' or control characters, at most {VolumeNames.MaxPathBytes - 1} UTF-8 bytes (such as backups/data/); was '{prefix}'");
        return prefix.TrimEnd('/') + "/";
    }

    /// <summary><see cref="DataProcessingInput.Endpoint"/> as a URL: absolute, http or https, with a host, and no user info, query or fragment.</summary>
    /// <exception cref="JobValidationException">Field <c>input.endpoint</c>.</exception>
    public static Uri Endpoint(string? endpoint)
    {
        if (string.IsNullOrEmpty(endpoint))
            throw new JobValidationException("input.endpoint", "is required: the S3 service's URL (such as https://s3.us-east-1.amazonaws.com, or another pool's http://host:5080/s3)");
        if (endpoint is { Length: > 0 and <= MaxEndpointLength } && Uri.TryCreate(endpoint, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"
            && uri.Host.Length > 0 && uri.UserInfo.Length == 0 && uri.Query.Length == 0 && uri.Fragment.Length == 0)
        {
            return uri;
        }

        throw new JobValidationException("input.endpoint", $"must be an absolute http or https URL of an S3 service without user info, query or fragment, at most {MaxEndpointLength} characters (such as https://s3.us-east-1.amazonaws.com, or another pool's http://host:5080/s3); was '{endpoint}'");
    }

    /// <summary>True for S3's bucket rule: 3–63 characters of <c>a-z</c>, <c>0-9</c>, <c>.</c> and <c>-</c>, starting and ending with a letter or digit.</summary>
    public static bool IsBucketName(string? bucket) =>
        bucket is { Length: >= 3 and <= 63 }
        && bucket.All(c => c is >= 'a' and <= 'z' or >= '0' and <= '9' or '.' or '-')
        && char.IsAsciiLetterOrDigit(bucket[0]) && char.IsAsciiLetterOrDigit(bucket[^1]);

    // The value is a secret: the rule says what is wrong without repeating it.
    private static void Credential(string? value, string field, string what, int maxLength)
    {
        if (string.IsNullOrEmpty(value))
            throw new JobValidationException(field, $"is required: {what}");
        if (value.Length > maxLength || value.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)))
            throw new JobValidationException(field, $"must be {what}: at most {maxLength} characters, without spaces or control characters");
    }
}
