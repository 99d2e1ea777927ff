using System.Text;

namespace PoolAI.Jobs;

/// <summary>
/// The input of a <see cref="JobKind.DataProcessing"/> job. For <see cref="DataOperations.Sync"/>: which volume prefix
/// mirrors which prefix of which S3-compatible bucket, which way, and with which credentials. The credentials are secrets
/// (<see cref="ISecretJobInput"/>): views of the job show <see cref="ISecretJobInput.Redacted"/> in their place.
/// </summary>
/// <param name="Operation">The operation: <see cref="DataOperations.Sync"/>; equal to the job's <see cref="JobSpec.Model"/>.</param>
/// <param name="Direction"><see cref="SyncDirections.Push"/> (volume → bucket) or <see cref="SyncDirections.Pull"/> (bucket → volume).</param>
/// <param name="Volume">The volume's name (see <see cref="Volumes.VolumeNames"/>).</param>
/// <param name="Prefix">The folder of the volume to mirror (<c>data/</c>; a missing trailing <c>/</c> is implied); empty or null for the whole volume.</param>
/// <param name="Endpoint">The S3 endpoint, an absolute http or https URL, with a path when the service has one (another pool's gateway: <c>http://host:5080/s3</c>; AWS: <c>https://s3.us-east-1.amazonaws.com</c>). Requests are path-style.</param>
/// <param name="Bucket">The bucket (on another PoolAI pool: a volume's name).</param>
/// <param name="BucketPrefix">The folder of the bucket to mirror (a missing trailing <c>/</c> is implied); empty or null for the whole bucket.</param>
/// <param name="AccessKeyId">The S3 access key id. A secret: never shown back.</param>
/// <param name="SecretAccessKey">The S3 secret access key. A secret: never shown back.</param>
/// <param name="Delete">True: files or objects under the target's folder that the source lacks are deleted; false (the default): they are kept.</param>
/// <param name="Region">The region requests are signed for; null for <c>us-east-1</c>.</param>
[GenerateSerializer, Immutable, Alias("poolai.DataProcessingInput")]
public sealed record DataProcessingInput(
    [property: Id(0)] string Operation,
    [property: Id(1)] string? Direction = null,
    [property: Id(2)] string? Volume = null,
    [property: Id(3)] string? Prefix = null,
    [property: Id(4)] string? Endpoint = null,
    [property: Id(5)] string? Bucket = null,
    [property: Id(6)] string? BucketPrefix = null,
    [property: Id(7)] string? AccessKeyId = null,
    [property: Id(8)] string? SecretAccessKey = null,
    [property: Id(9)] bool Delete = false,
    [property: Id(10)] string? Region = null) : ISecretJobInput
{
    /// <summary>The region requests are signed for when <see cref="Region"/> is null.</summary>
    public const string DefaultRegion = "us-east-1";

    /// <summary>A sync job's input: mirror <paramref name="volume"/>'s <paramref name="prefix"/> and <paramref name="bucket"/>'s <paramref name="bucketPrefix"/> at <paramref name="endpoint"/>, in <paramref name="direction"/>.</summary>
    public static DataProcessingInput Sync(
        string direction, string volume, string? prefix, string endpoint, string bucket, string? bucketPrefix,
        string accessKeyId, string secretAccessKey, bool delete = false, string? region = null) =>
        new(DataOperations.Sync, direction, volume, prefix, endpoint, bucket, bucketPrefix, accessKeyId, secretAccessKey, delete, region);

    /// <inheritdoc />
    public IJobInput WithoutSecrets() => this with
    {
        AccessKeyId = AccessKeyId is null ? null : ISecretJobInput.Redacted,
        SecretAccessKey = SecretAccessKey is null ? null : ISecretJobInput.Redacted,
    };

    // What ToString prints: the redacted copy's fields, so a logged input shows no secret.
    private bool PrintMembers(StringBuilder builder)
    {
        var shown = (DataProcessingInput)WithoutSecrets();
        builder.Append("Operation = ").Append(shown.Operation)
            .Append(", Direction = ").Append(shown.Direction)
            .Append(", Volume = ").Append(shown.Volume)
            .Append(", Prefix = ").Append(shown.Prefix)
            .Append(", Endpoint = ").Append(shown.Endpoint)
            .Append(", Bucket = ").Append(shown.Bucket)
            .Append(", BucketPrefix = ").Append(shown.BucketPrefix)
            .Append(", AccessKeyId = ").Append(shown.AccessKeyId)
            .Append(", SecretAccessKey = ").Append(shown.SecretAccessKey)
            .Append(", Delete = ").Append(shown.Delete)
            .Append(", Region = ").Append(shown.Region);
        return true;
    }
}
