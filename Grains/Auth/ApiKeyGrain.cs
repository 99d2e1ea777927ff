using System.Security.Cryptography;
using System.Text;
using PoolAI.Placement;

namespace PoolAI.Auth;

/// <summary>An API key's persisted state (state name <c>apikey</c>).</summary>
[GenerateSerializer, Alias("poolai.ApiKeyState")]
public sealed class ApiKeyState
{
    /// <summary>SHA-256 of the key, hex.</summary>
    [Id(0)] public string? Hash { get; set; }

    /// <summary>What the key is, without its hash.</summary>
    [Id(1)] public ApiKeyView? View { get; set; }
}

/// <summary>One API key on a coordinator silo. Compares hashes in constant time.</summary>
[CoordinatorFilter]
public sealed class ApiKeyGrain(
    [PersistentState("apikey", PoolKeys.Storage)] IPersistentState<ApiKeyState> state,
    TimeProvider time) : Grain, IApiKeyGrain
{
    /// <inheritdoc />
    public async Task<ApiKeyView> CreateAsync(string hash, string role, string name)
    {
        if (state.State.View is not null)
            throw new ArgumentException($"an API key with id {this.GetPrimaryKeyString()} exists already", "id");
        if (name is { Length: > 100 } || (name?.Any(char.IsControl) ?? false))
            throw new ArgumentException("name must be at most 100 characters without control characters", nameof(name));
        if (hash is not { Length: 64 } || !hash.All(char.IsAsciiHexDigitLower))
            throw new ArgumentException("hash must be 64 lower-case hex digits (SHA-256)", nameof(hash));
        var view = new ApiKeyView(this.GetPrimaryKeyString(), string.IsNullOrWhiteSpace(name) ? "unnamed" : name.Trim(), ApiRoles.Parse(role), time.GetUtcNow(), null);
        state.State.Hash = hash;
        state.State.View = view;
        await state.WriteStateAsync();
        await GrainFactory.GetGrain<IApiKeyDirectoryGrain>(IApiKeyDirectoryGrain.Key).AddAsync(view.Id);
        return view;
    }

    /// <inheritdoc />
    public Task<ApiKeyView?> VerifyAsync(string hash)
    {
        if (state.State is not { View: { RevokedAt: null } view, Hash: { } stored } || hash is null)
            return Task.FromResult<ApiKeyView?>(null);
        var match = CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(stored), Encoding.ASCII.GetBytes(hash));
        return Task.FromResult(match ? view : null);
    }

    /// <inheritdoc />
    public async Task<ApiKeyView> RevokeAsync()
    {
        var view = state.State.View ?? throw new KeyNotFoundException($"no API key with id {this.GetPrimaryKeyString()}");
        if (view.RevokedAt is null)
        {
            state.State.View = view with { RevokedAt = time.GetUtcNow() };
            await state.WriteStateAsync();
        }

        // An open miner connected with this key loses its channel now, not at its next check.
        if (view.Role == ApiRoles.Miner)
            await GrainFactory.GetGrain<Miners.IOpenMinerGrain>(Miners.OpenMiners.WorkerOf(view.Id)).CloseAsync("the miner key was revoked");
        return state.State.View;
    }

    /// <inheritdoc />
    public Task<ApiKeyView?> GetAsync() => Task.FromResult(state.State.View);
}

/// <summary>The persisted list of API key ids (state name <c>apikeys</c>).</summary>
[CoordinatorFilter]
public sealed class ApiKeyDirectoryGrain(
    [PersistentState("apikeys", PoolKeys.Storage)] IPersistentState<List<string>> state) : Grain, IApiKeyDirectoryGrain
{
    /// <inheritdoc />
    public async Task AddAsync(string id)
    {
        if (state.State.Contains(id))
            return;
        state.State.Add(id);
        await state.WriteStateAsync();
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<string>> ListAsync() => Task.FromResult<IReadOnlyList<string>>(state.State.ToList());
}
