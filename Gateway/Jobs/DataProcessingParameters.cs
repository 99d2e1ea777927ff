using PoolAI.Jobs;

namespace PoolAI.Gateway.Jobs;

/// <summary>
/// The <c>parameters</c> of a <c>DataProcessing</c> job sent to <c>POST /api/jobs</c>, as the job's
/// <see cref="DataProcessingInput"/>. Names are those of the input in snake case (<c>bucket_prefix</c>,
/// <c>access_key_id</c>); the pool checks the values when the job is submitted (<c>DataProcessingRules</c>) and names a
/// bad one <c>input.NAME</c>, which the gateway reports as <c>parameters.NAME</c>.
/// </summary>
public static class DataProcessingParameters
{
    /// <summary>The parameters a <c>sync</c> job reads.</summary>
    public static readonly IReadOnlyList<string> Sync =
        ["direction", "volume", "prefix", "endpoint", "bucket", "bucket_prefix", "access_key_id", "secret_access_key", "delete", "region"];

    /// <summary>The input of operation <paramref name="operation"/> from <paramref name="parameters"/>.</summary>
    /// <exception cref="JobValidationException">Field <c>parameters.NAME</c>: a parameter the operation does not read, or <c>delete</c> that is not true or false.</exception>
    public static DataProcessingInput ToInput(string operation, IReadOnlyDictionary<string, string>? parameters)
    {
        parameters ??= new Dictionary<string, string>();
        if (parameters.Keys.FirstOrDefault(name => !Sync.Contains(name)) is { } unknown)
            throw new JobValidationException($"parameters.{unknown}", $"is not a parameter of DataProcessing jobs; they read {string.Join(", ", Sync)}");
        string? Get(string name) => parameters.TryGetValue(name, out var value) ? value : null;
        var delete = Get("delete") switch
        {
            null or "false" => false,
            "true" => true,
            var other => throw new JobValidationException("parameters.delete", $"must be true or false; was '{other}'"),
        };
        return new DataProcessingInput(operation, Get("direction"), Get("volume"), Get("prefix"), Get("endpoint"), Get("bucket"),
            Get("bucket_prefix"), Get("access_key_id"), Get("secret_access_key"), delete, Get("region"));
    }
}
