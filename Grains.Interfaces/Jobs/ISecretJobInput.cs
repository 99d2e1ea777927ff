namespace PoolAI.Jobs;

/// <summary>
/// A job input that carries secrets (another service's credentials) which the executor needs and no one may read back.
/// Every view of the job (the SDK's <c>GetAsync</c>, <c>GET /api/jobs/{id}</c>, listings, watchers, webhooks) shows
/// <see cref="WithoutSecrets"/> instead, and the record's <c>ToString</c> leaves them out, so they reach no log. The
/// pool stores the whole input with the job, so that an attempt after a requeue can run it again.
/// </summary>
public interface ISecretJobInput : IJobInput
{
    /// <summary>What views show in place of a secret.</summary>
    public const string Redacted = "(redacted)";

    /// <summary>This input with every secret replaced by <see cref="Redacted"/> (a secret not given stays null).</summary>
    IJobInput WithoutSecrets();
}
