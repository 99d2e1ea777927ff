using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Microsoft.Extensions.Logging;
using PoolAI.Hosting;
using PoolAI.Jobs;
using PoolAI.Placement;

namespace PoolAI.Auth;

/// <summary>An enrollment token's persisted state (state name <c>enrollment</c>).</summary>
[GenerateSerializer, Alias("poolai.SiloEnrollmentState")]
public sealed class SiloEnrollmentState
{
    /// <summary>SHA-256 of the token, hex.</summary>
    [Id(0)] public string? Hash { get; set; }

    /// <summary>The token, without its hash.</summary>
    [Id(1)] public EnrollmentTokenView? View { get; set; }
}

/// <summary>One enrollment token on a coordinator (see <see cref="ISiloEnrollmentGrain"/>). Compares hashes in constant time; signs with <see cref="PoolAuthority"/>.</summary>
[CoordinatorFilter]
public sealed partial class SiloEnrollmentGrain(
    [PersistentState("enrollment", PoolKeys.Storage)] IPersistentState<SiloEnrollmentState> state,
    PoolAuthority authority,
    TimeProvider time,
    ILogger<SiloEnrollmentGrain> logger) : Grain, ISiloEnrollmentGrain
{
    /// <inheritdoc />
    public async Task<EnrollmentTokenView> CreateAsync(string hash, string name, DateTimeOffset expiresAt)
    {
        if (state.State.View is not null)
            throw new JobValidationException("id", $"an enrollment token with id {this.GetPrimaryKeyString()} exists already");
        try
        {
            PoolCertificates.CheckName(name);
        }
        catch (ArgumentException ex)
        {
            throw new JobValidationException("name", ex.Message["name: ".Length..]);
        }

        var now = time.GetUtcNow();
        if (expiresAt <= now || expiresAt - now > EnrollmentTokens.MaxLifetime)
            throw new JobValidationException("ttl", $"must be between 1 second and {EnrollmentTokens.MaxLifetime.TotalDays:0} days");
        if (hash is not { Length: 64 } || !hash.All(char.IsAsciiHexDigitLower))
            throw new ArgumentException("hash must be 64 lower-case hex digits (SHA-256)", nameof(hash));
        state.State.Hash = hash;
        state.State.View = new EnrollmentTokenView(this.GetPrimaryKeyString(), name, now, expiresAt, null, null);
        await state.WriteStateAsync();
        LogCreated(state.State.View.Id, name, expiresAt);
        return state.State.View;
    }

    /// <inheritdoc />
    public async Task<SiloEnrollment> RedeemAsync(string hash, string requestPem)
    {
        if (state.State is not { View: { } view, Hash: { } stored } || hash is null
            || !CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(stored), Encoding.ASCII.GetBytes(hash)))
        {
            throw new JobValidationException("token", "is not an enrollment token of this pool");
        }

        if (view.UsedAt is { } used)
            throw new JobValidationException("token", $"was used at {used:u} (certificate {view.Serial}); a token enrolls one silo once: ask the admin for a new one");
        if (time.GetUtcNow() >= view.ExpiresAt)
            throw new JobValidationException("token", $"expired at {view.ExpiresAt:u}; ask the admin for a new one");
        if (authority.Certificate is not { } signer)
            throw new JobValidationException("authority", $"this pool signs no certificates: its coordinators have no {PoolAuthority.KeyPathKey}");
        X509Certificate2 certificate;
        try
        {
            certificate = PoolCertificates.Sign(signer, requestPem ?? string.Empty, PoolAuthority.EnrolledLifetime, view.Name);
        }
        catch (ArgumentException ex)
        {
            throw new JobValidationException("request", ex.Message.StartsWith("request: ", StringComparison.Ordinal) ? ex.Message["request: ".Length..] : ex.Message);
        }

        using (certificate)
        {
            // Used, with its serial, before the certificate leaves: a write that fails hands out nothing.
            state.State.View = view with { UsedAt = time.GetUtcNow(), Serial = certificate.SerialNumber };
            await state.WriteStateAsync();
            LogRedeemed(view.Id, view.Name, certificate.SerialNumber);
            return new SiloEnrollment(view.Name, certificate.ExportCertificatePem() + "\n", signer.ExportCertificatePem() + "\n", certificate.SerialNumber, certificate.NotAfter.ToUniversalTime());
        }
    }

    /// <inheritdoc />
    public Task<EnrollmentTokenView?> GetAsync() => Task.FromResult(state.State.View);

    [LoggerMessage(Level = LogLevel.Information, Message = "Enrollment token {Id} created for silo {Name}, good until {ExpiresAt:u}")]
    private partial void LogCreated(string id, string name, DateTimeOffset expiresAt);

    [LoggerMessage(Level = LogLevel.Information, Message = "Enrollment token {Id} redeemed: silo {Name} certified, serial {Serial}")]
    private partial void LogRedeemed(string id, string name, string serial);
}
