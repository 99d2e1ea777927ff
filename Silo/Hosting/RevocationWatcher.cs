using Microsoft.Extensions.Logging;
using PoolAI.Hosting;
using PoolAI.Placement;

namespace PoolAI.Silo.Hosting;

/// <summary>
/// On coordinators of a pool with its own authority: every second, reads the revocation list (when the file changed)
/// and declares dead every active silo whose certificate serial number, as it advertises it in its metadata
/// (<see cref="PoolKeys.CertificateMetadata"/>), is on it (<see cref="IClusterMembershipService.TryKill"/>). The evicted
/// silo's connections close, it stops itself as Orleans silos do when declared dead, and the TLS check refuses its
/// certificate when it tries to come back. A silo that lies about its serial is still refused at its next connection.
/// </summary>
public sealed partial class RevocationWatcher(
    string revocationListPath,
    IClusterMembershipService membership,
    SiloMetadataLookup metadata,
    ILocalSiloDetails local,
    ILogger<RevocationWatcher> logger) : ILifecycleParticipant<ISiloLifecycle>
{
    private readonly CancellationTokenSource _stopping = new();
    private Task? _watch;

    /// <inheritdoc />
    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(RevocationWatcher), ServiceLifecycleStage.Active, _ =>
        {
            _watch = WatchAsync(_stopping.Token);
            return Task.CompletedTask;
        }, async _ =>
        {
            await _stopping.CancelAsync();
            if (_watch is not null)
                await _watch.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        });

    private async Task WatchAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        var written = DateTime.MinValue;
        IReadOnlySet<string> revoked = new HashSet<string>();
        while (await timer.WaitForNextTickAsync(cancellationToken))
        {
            try
            {
                var changed = File.Exists(revocationListPath) ? File.GetLastWriteTimeUtc(revocationListPath) : DateTime.MinValue;
                if (changed != written)
                {
                    revoked = PoolCertificates.ReadRevocationList(revocationListPath);
                    written = changed;
                }

                if (revoked.Count == 0)
                    continue;
                foreach (var member in membership.CurrentSnapshot.Members.Values.Where(m => m.Status == SiloStatus.Active && !m.SiloAddress.Equals(local.SiloAddress)))
                {
                    if (metadata.Of(member.SiloAddress).GetValueOrDefault(PoolKeys.CertificateMetadata) is { } serial && revoked.Contains(serial))
                    {
                        LogEvicting(member.SiloAddress, serial);
                        await membership.TryKill(member.SiloAddress);
                    }
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogFailed(ex);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Silo {Silo} holds revoked certificate {Serial}: declaring it dead")]
    private partial void LogEvicting(SiloAddress silo, string serial);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not check the cluster against the revocation list; trying again in a second")]
    private partial void LogFailed(Exception exception);
}
