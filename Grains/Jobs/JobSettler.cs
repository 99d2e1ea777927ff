using Microsoft.Extensions.Logging;

namespace PoolAI.Jobs;

/// <summary>
/// Runs a final job's settlement (<see cref="JobSettlement"/>) for its job grain once, then stores
/// <see cref="JobState.Settled"/>; a failed settlement is tried again every <see cref="Retry"/> while the activation
/// lives, and by the next activation after a crash. Runs on the grain's turns only.
/// </summary>
internal sealed partial class JobSettler(IJobHost host, JobSettlement settlement, ILogger logger)
{
    /// <summary>How long a failed settlement waits before it is tried again.</summary>
    public static readonly TimeSpan Retry = TimeSpan.FromSeconds(5);

    private static readonly System.Text.Json.JsonSerializerOptions WebhookJson = new()
    {
        PropertyNamingPolicy = System.Text.Json.JsonNamingPolicy.SnakeCaseLower,
        Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter() },
    };

    private Task _settling = Task.CompletedTask;
    private IGrainTimer? _retry;
    private bool _stopping;

    /// <summary>True when no settlement is in progress.</summary>
    public bool Idle => _settling.IsCompleted;

    /// <summary>Settles the job if it is final and not settled yet; joins a settlement in progress.</summary>
    public Task SettleAsync()
    {
        if (_settling.IsCompleted)
            _settling = SettleOnceAsync();
        return _settling;
    }

    /// <summary>Settles after <paramref name="due"/>.</summary>
    public void Schedule(TimeSpan due)
    {
        _retry?.Dispose();
        _retry = host.RegisterTimer(SettleAsync, due, once: true);
    }

    /// <summary>The activation is going: lets a settlement in progress finish (one cut short is repeated at the next activation).</summary>
    public Task StopAsync(CancellationToken cancellationToken)
    {
        _stopping = true;
        return _settling.WaitAsync(cancellationToken);
    }

    private async Task SettleOnceAsync()
    {
        var job = host.Record.Job;
        if (job.Spec is null || !job.Status.IsFinal() || job.Settled)
            return;
        try
        {
            await settlement.SettleAsync(host.Record.Id, job, WebhookPayload);
            job.Settled = true;
            await host.Record.SaveAsync();
        }
        catch (Exception ex)
        {
            LogSettleFailed(host.Record.Id, ex);
            if (!_stopping)
                Schedule(Retry);
        }
    }

    /// <summary>The JSON a job's webhook receives: <c>{"event":"job.final","job":JOB_VIEW}</c>, the view as the HTTP API shows it.</summary>
    private string WebhookPayload() => System.Text.Json.JsonSerializer.Serialize(new Dictionary<string, object>
    {
        ["event"] = "job.final",
        ["job"] = host.Record.View() with { WebhookAttempts = [] },
    }, WebhookJson);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId}: could not settle (credit, verification, artifacts, webhook); trying again shortly")]
    private partial void LogSettleFailed(Guid jobId, Exception exception);
}
