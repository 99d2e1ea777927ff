using System.Security.Cryptography;
using System.Text;

namespace PoolAI.Auth;

/// <summary>The roles of the pool's HTTP API.</summary>
public static class ApiRoles
{
    /// <summary>Everything, including settings, workers, rewards corrections and the dashboard.</summary>
    public const string Admin = "admin";

    /// <summary>Submit and manage jobs, use the OpenAI-compatible API.</summary>
    public const string Developer = "developer";

    /// <summary>A miner's own view: its worker and rewards.</summary>
    public const string Miner = "miner";

    /// <summary>All roles.</summary>
    public static readonly IReadOnlyList<string> All = [Admin, Developer, Miner];

    /// <summary>The role named <paramref name="role"/> (any case).</summary>
    /// <exception cref="ArgumentException">Not one of <see cref="All"/>; the message names the field.</exception>
    public static string Parse(string? role) =>
        All.FirstOrDefault(r => string.Equals(r, role?.Trim(), StringComparison.OrdinalIgnoreCase))
        ?? throw new ArgumentException($"role must be one of {string.Join(", ", All)}; was '{role}'", nameof(role));
}

/// <summary>
/// API keys: <c>pai_ID_SECRET</c>, with a 12-hex-digit id (public, the key's name in the pool) and 32 random bytes
/// of secret (base64url). The pool stores only the SHA-256 of the whole key: keys are random, so a fast hash is as
/// good as a slow one, and a leaked store reveals no key.
/// </summary>
public static class ApiKeys
{
    /// <summary>Every key starts with this.</summary>
    public const string Prefix = "pai_";

    /// <summary>A new random key and its id.</summary>
    public static (string Id, string Key) Generate()
    {
        var id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
        var secret = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        return (id, $"{Prefix}{id}_{secret}");
    }

    /// <summary>The id of <paramref name="key"/>, or null when it is not shaped like a key.</summary>
    public static string? IdOf(string? key)
    {
        if (key is null || !key.StartsWith(Prefix, StringComparison.Ordinal) || key.Length < Prefix.Length + 14 || key[Prefix.Length + 12] != '_')
            return null;
        var id = key.Substring(Prefix.Length, 12);
        return id.All(char.IsAsciiHexDigitLower) ? id : null;
    }

    /// <summary>SHA-256 of the key, lower-case hex.</summary>
    public static string Hash(string key) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));
}

/// <summary>An API key as the pool keeps it: never the key itself.</summary>
/// <param name="Id">The key's public id.</param>
/// <param name="Name">What it is for.</param>
/// <param name="Role">Its role.</param>
/// <param name="CreatedAt">When it was created.</param>
/// <param name="RevokedAt">When it was revoked; null while valid.</param>
[GenerateSerializer, Immutable, Alias("poolai.ApiKeyView")]
public sealed record ApiKeyView(
    [property: Id(0)] string Id,
    [property: Id(1)] string Name,
    [property: Id(2)] string Role,
    [property: Id(3)] DateTimeOffset CreatedAt,
    [property: Id(4)] DateTimeOffset? RevokedAt);

/// <summary>One API key, keyed by its id; holds the key's SHA-256, role and name.</summary>
[Alias("poolai.IApiKeyGrain")]
public interface IApiKeyGrain : IGrainWithStringKey
{
    /// <summary>Stores a new key by its hash.</summary>
    /// <exception cref="ArgumentException">The id is taken, the hash is not 64 hex digits, or the role is unknown.</exception>
    [Alias("Create")]
    Task<ApiKeyView> CreateAsync(string hash, string role, string name);

    /// <summary>The key, when <paramref name="hash"/> is its hash and it is not revoked; otherwise null.</summary>
    [Alias("Verify")]
    Task<ApiKeyView?> VerifyAsync(string hash);

    /// <summary>Revokes the key: it authenticates nothing from now on. Idempotent.</summary>
    /// <exception cref="KeyNotFoundException">No such key.</exception>
    [Alias("Revoke")]
    Task<ApiKeyView> RevokeAsync();

    /// <summary>The key, or null when there is none with this id.</summary>
    [Alias("Get")]
    Task<ApiKeyView?> GetAsync();
}

/// <summary>The list of API key ids (key <see cref="Key"/>), for listing.</summary>
[Alias("poolai.IApiKeyDirectoryGrain")]
public interface IApiKeyDirectoryGrain : IGrainWithIntegerKey
{
    /// <summary>The only key.</summary>
    public const long Key = 0;

    /// <summary>Records a key id.</summary>
    [Alias("Add")]
    Task AddAsync(string id);

    /// <summary>Every key id, oldest first.</summary>
    [Alias("List")]
    Task<IReadOnlyList<string>> ListAsync();
}
