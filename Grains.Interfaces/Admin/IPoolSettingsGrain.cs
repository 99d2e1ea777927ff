namespace PoolAI.Admin;

/// <summary>Pool-wide settings an admin changes at run time.</summary>
/// <param name="MaintenanceMode">When true the pool accepts no new jobs (running and queued ones go on) and says why.</param>
/// <param name="MaintenanceReason">Why, shown to every refused submitter.</param>
/// <param name="UpdatedAt">When they last changed.</param>
/// <param name="UpdatedBy">Who changed them (key id).</param>
[GenerateSerializer, Immutable, Alias("poolai.PoolSettings")]
public sealed record PoolSettings(
    [property: Id(0)] bool MaintenanceMode = false,
    [property: Id(1)] string? MaintenanceReason = null,
    [property: Id(2)] DateTimeOffset? UpdatedAt = null,
    [property: Id(3)] string? UpdatedBy = null);

/// <summary>The pool's settings (key <see cref="Key"/>), persisted; every coordinator re-reads them every second.</summary>
[Alias("poolai.IPoolSettingsGrain")]
public interface IPoolSettingsGrain : IGrainWithIntegerKey
{
    /// <summary>The only key.</summary>
    public const long Key = 0;

    /// <summary>The settings now.</summary>
    [Alias("Get")]
    Task<PoolSettings> GetAsync();

    /// <summary>Replaces the settings.</summary>
    /// <exception cref="ArgumentException">Maintenance mode without a reason; the message names the field.</exception>
    [Alias("Set")]
    Task<PoolSettings> SetAsync(PoolSettings settings, string updatedBy);
}

/// <summary>The pool is in maintenance and accepts no new jobs; <see cref="Exception.Message"/> says why.</summary>
[GenerateSerializer, Alias("poolai.PoolMaintenanceException")]
public sealed class PoolMaintenanceException : Exception
{
    /// <summary>Creates the error with the admin's reason.</summary>
    public PoolMaintenanceException(string reason)
        : base($"the pool is in maintenance and accepts no new jobs: {reason}")
    {
        Reason = reason;
    }

    /// <summary>The admin's reason.</summary>
    [Id(0)]
    public string Reason { get; }
}
