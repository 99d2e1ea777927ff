using System.Runtime.CompilerServices;
using PoolAI.Artifacts;
using PoolAI.Auth;
using PoolAI.Jobs;
using PoolAI.Rewards;
using PoolAI.Workers;

namespace PoolAI.Client.Sdk;

/// <summary>
/// The PoolAI client SDK: submit jobs, await results, stream partial output, read status, cancel.
/// Works on any <see cref="IGrainFactory"/>: an Orleans cluster client, or a silo hosted in-process.
/// Get one from <see cref="PoolConnection.OpenAsync"/>.
/// </summary>
public sealed class PoolClient(IGrainFactory grains)
{
    /// <summary>Longest single wait call; longer waits are made of several so no call outlives its timeout.</summary>
    private static readonly TimeSpan WaitSlice = TimeSpan.FromMinutes(1);

    /// <summary>
    /// How long <see cref="WatchAsync"/> waits for an update before it reads the job itself: a final update lost on the
    /// way, or a pool that went away (the read then throws the connection's error, about this long after the loss; the
    /// Orleans client's own response timeout is 30 s), ends the stream within this time. One small call per probe.
    /// </summary>
    public static readonly TimeSpan WatchProbe = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Storage volumes: create and list them, and stream files in and out (<c>OpenWriteAsync</c>,
    /// <c>OpenReadAsync</c> with ranges) — bytes go straight between this process and the miners'
    /// stores, a few stripes at a time, so files of any size are never held in memory.
    /// </summary>
    public PoolAI.Volumes.VolumeClient Volumes { get; } = new(grains);

    /// <summary>Submits <paramref name="spec"/> under a new id (or <paramref name="jobId"/>; resubmitting an id is idempotent).</summary>
    /// <returns>The job as accepted, usually <see cref="JobStatus.Queued"/>.</returns>
    /// <exception cref="JobValidationException">The job breaks a rule; nothing was stored.</exception>
    public Task<JobView> SubmitAsync(JobSpec spec, Guid? jobId = null) =>
        grains.Reference<IJobGrain>(jobId ?? Guid.NewGuid()).SubmitAsync(spec);

    /// <summary>The job now.</summary>
    /// <exception cref="KeyNotFoundException">No such job.</exception>
    public Task<JobView> GetAsync(Guid jobId) => grains.Reference<IJobGrain>(jobId).GetAsync();

    /// <summary>Cancels a job that has not finished and returns it after; what a running attempt had produced is kept as its partial result.</summary>
    /// <exception cref="JobFinishedException">The job has finished; nothing changes.</exception>
    /// <exception cref="KeyNotFoundException">No such job.</exception>
    public Task<JobView> CancelAsync(Guid jobId, string reason = "by requester") =>
        grains.Reference<IJobGrain>(jobId).CancelAsync(reason);

    /// <summary>Changes a job's priority (−10…10) in any non-final state; returns it after.</summary>
    /// <exception cref="JobValidationException">Priority out of range.</exception>
    /// <exception cref="JobFinishedException">The job has finished; nothing changes.</exception>
    /// <exception cref="KeyNotFoundException">No such job.</exception>
    public Task<JobView> SetPriorityAsync(Guid jobId, int priority) => grains.Reference<IJobGrain>(jobId).SetPriorityAsync(priority);

    /// <summary>The jobs of <paramref name="requester"/> matching <paramref name="query"/>, newest first, with their current views.</summary>
    /// <exception cref="JobValidationException">Limit outside 1–100.</exception>
    /// <remarks>The next page: the same query with <see cref="JobQuery.Before"/> = <c>NextBefore</c> and <see cref="JobQuery.BeforeJob"/> = <c>NextBeforeJob</c>; both null on the last page.</remarks>
    public async Task<(IReadOnlyList<JobView> Jobs, DateTimeOffset? NextBefore, Guid? NextBeforeJob)> ListAsync(string requester, JobQuery query)
    {
        var page = await grains.Reference<IJobIndexGrain>(requester).ListAsync(query);
        var views = await Task.WhenAll(page.Items.Select(e => grains.Reference<IJobGrain>(e.JobId).GetAsync()));
        return (views, page.NextBefore, page.NextBeforeJob);
    }

    /// <summary>Waits until the job is final (or <paramref name="timeout"/> passes) and returns it.</summary>
    /// <exception cref="KeyNotFoundException">No such job.</exception>
    public async Task<JobView> WaitAsync(Guid jobId, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        var job = grains.Reference<IJobGrain>(jobId);
        var deadline = timeout is { } t ? DateTimeOffset.UtcNow + t : DateTimeOffset.MaxValue;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var left = deadline - DateTimeOffset.UtcNow;
            var view = await job.WaitForCompletionAsync(left < WaitSlice ? (left > TimeSpan.Zero ? left : TimeSpan.Zero) : WaitSlice).WaitAsync(cancellationToken);
            if (view.Status.IsFinal() || DateTimeOffset.UtcNow >= deadline)
                return view;
        }
    }

    /// <summary>
    /// Streams the job's output text as it is produced (a text job's generated text), in order, ending when the job is
    /// final. Text produced before the call is yielded first.
    /// </summary>
    /// <exception cref="KeyNotFoundException">No such job.</exception>
    public async IAsyncEnumerable<string> StreamTextAsync(Guid jobId, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await foreach (var update in WatchAsync(jobId, cancellationToken))
        {
            if (update.Text.Length > 0)
                yield return update.Text;
        }
    }

    /// <summary>
    /// Streams the job's events until it is final: first its state now with the text produced so far, then every status
    /// change, progress report and piece of streamed text, with text in order and without gaps
    /// (<see cref="JobEvent.Offset"/> is where it starts in the output); the last event carries the final status and,
    /// for a text job, the rest of its result's text.
    /// </summary>
    /// <exception cref="KeyNotFoundException">No such job.</exception>
    public async IAsyncEnumerable<JobEvent> WatchAsync(Guid jobId, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var job = grains.Reference<IJobGrain>(jobId);
        var watcher = new JobWatcher();
        var reference = grains.CreateObjectReference<IJobObserver>(watcher);
        var offset = 0;
        try
        {
            var start = await job.WatchAsync(reference);
            var already = watcher.Accept(0, start.Output);
            yield return new JobEvent(start.View.Status, start.View.StatusMessage, 0, already, start.View.Progress);
            if (start.View.Status.IsFinal())
                yield break; // it had finished: that was all
            offset = already.Length;
            var final = false;
            while (!final)
            {
                JobUpdate update;
                try
                {
                    // A silent job is re-checked now and then, so a lost final update or a lost pool cannot hang the stream.
                    update = await watcher.Updates.ReadAsync(cancellationToken).AsTask().WaitAsync(WatchProbe, cancellationToken);
                }
                catch (TimeoutException)
                {
                    final = (await job.GetAsync()).Status.IsFinal();
                    continue;
                }

                final = update.Status.IsFinal();
                if (final)
                    break; // reported below, after the stored result's text
                var text = watcher.Accept(update.Offset, update.Text);
                yield return new JobEvent(update.Status, update.Message, offset, text, update.Progress);
                offset += text.Length;
            }

            // The final update can overtake the last pieces; the job's output is complete.
            var view = await job.GetAsync();
            var rest = watcher.Accept(0, await job.GetOutputAsync());
            yield return new JobEvent(view.Status, view.StatusMessage, offset, rest, view.Progress);
        }
        finally
        {
            await job.UnwatchAsync(reference);
            grains.DeleteObjectReference<IJobObserver>(reference);
        }
    }

    /// <summary>
    /// Submits a text-generation job, streams its text to <paramref name="onText"/>, and returns the finished job. The
    /// result of an identical earlier request (same model checkpoint, settings and seed) comes from the pool's result
    /// cache (<see cref="JobResult.Cached"/>) unless <paramref name="noCache"/> is true.
    /// </summary>
    /// <exception cref="JobValidationException">The job breaks a rule.</exception>
    public async Task<JobView> GenerateAsync(string model, GenerationSettings settings, Action<string>? onText = null, CancellationToken cancellationToken = default, bool noCache = false)
    {
        var submitted = await SubmitAsync(JobSpec.TextGeneration(model, settings) with { NoCache = noCache });
        try
        {
            await foreach (var text in StreamTextAsync(submitted.Id, cancellationToken))
                onText?.Invoke(text);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await CancelAsync(submitted.Id, "the requester stopped waiting");
            throw;
        }

        return await GetAsync(submitted.Id);
    }

    /// <summary>
    /// Submits system task <paramref name="task"/> (see <see cref="SystemTasks"/>) with <paramref name="parameters"/> and
    /// waits for it to finish. Cancelling <paramref name="cancellationToken"/> cancels the job too.
    /// </summary>
    /// <param name="task">The task's name, e.g. <c>probe</c>.</param>
    /// <param name="parameters">The task's parameters as NAME=VALUE strings; null for none.</param>
    /// <param name="cancellationToken">Stops the wait and cancels the job.</param>
    /// <param name="requester">Who asks, for fair scheduling and the job's record.</param>
    /// <exception cref="JobValidationException">Unknown task or parameter.</exception>
    public async Task<JobView> RunSystemTaskAsync(string task, IReadOnlyDictionary<string, string>? parameters = null, CancellationToken cancellationToken = default, string requester = "anonymous")
    {
        var submitted = await SubmitAsync(JobSpec.SystemTask(task, new SystemTaskInput(parameters), requester));
        return await WaitOrCancelAsync(submitted.Id, "the requester stopped waiting", cancellationToken);
    }

    /// <summary>
    /// Waits for job <paramref name="jobId"/> to finish; when <paramref name="cancellationToken"/> is cancelled first, cancels
    /// the job with <paramref name="reason"/> (unless it has just finished) and throws <see cref="OperationCanceledException"/>.
    /// </summary>
    /// <exception cref="KeyNotFoundException">No such job.</exception>
    public async Task<JobView> WaitOrCancelAsync(Guid jobId, string reason, CancellationToken cancellationToken = default)
    {
        try
        {
            return await WaitAsync(jobId, cancellationToken: cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await ((Task)CancelAsync(jobId, reason)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing); // it may have just finished
            throw;
        }
    }

    /// <summary>An artifact as the pool stores it (id, size, media type, first name); null when it is not stored (never, or no longer).</summary>
    /// <exception cref="ArgumentException">Not an artifact id (64 lower-case hex characters).</exception>
    public Task<ArtifactRef?> GetArtifactAsync(string artifactId) =>
        grains.GetGrain<IArtifactGrain>(RequireArtifactId(artifactId)).GetAsync();

    /// <summary>Writes <paramref name="artifact"/>'s content to <paramref name="destination"/>, a chunk at a time (multi-GB artifacts are never held in memory).</summary>
    /// <exception cref="KeyNotFoundException">The pool does not hold it (deleted after its job's retention).</exception>
    public Task DownloadArtifactAsync(ArtifactRef artifact, Stream destination, CancellationToken cancellationToken = default) =>
        ArtifactTransfer.CopyToAsync(grains, artifact, destination, cancellationToken);

    /// <summary>The whole content of a small artifact (at most 256 MiB; stream larger ones with <see cref="DownloadArtifactAsync"/>).</summary>
    /// <exception cref="KeyNotFoundException">The pool does not hold it.</exception>
    public Task<byte[]> ReadArtifactAsync(ArtifactRef artifact, CancellationToken cancellationToken = default) =>
        ArtifactTransfer.ReadAllAsync(grains, artifact, cancellationToken);

    /// <summary>
    /// Stores <paramref name="content"/> in the pool as an artifact (a file a job will read), streamed in chunks. Until a
    /// job holds it, the pool keeps it for <see cref="ArtifactLimits.UnclaimedRetention"/>.
    /// </summary>
    /// <exception cref="ArgumentException">A name or media type breaks its rule, or the content is over <see cref="ArtifactLimits.MaxSize"/>.</exception>
    public Task<ArtifactRef> UploadArtifactAsync(Stream content, string mediaType, string name, CancellationToken cancellationToken = default) =>
        ArtifactTransfer.UploadAsync(grains, content, mediaType, name, cancellationToken);

    private static string RequireArtifactId(string artifactId) => ArtifactLimits.IsId(artifactId?.Trim().ToLowerInvariant())
        ? artifactId!.Trim().ToLowerInvariant()
        : throw new ArgumentException($"must be an artifact id: 64 hex characters (a SHA-256); was '{artifactId}'", nameof(artifactId));

    /// <summary>A worker's reward ledger at a glance: balance, streak and progress to the next level, quality factor, suspicions, statistics.</summary>
    /// <exception cref="KeyNotFoundException">No worker with this id has registered.</exception>
    public async Task<RewardSummary> GetRewardsAsync(string worker) =>
        await grains.GetGrain<IRewardLedgerGrain>(await RegisteredAsync(worker)).GetSummaryAsync();

    /// <summary>A worker as the pool knows it: status, capabilities, last heartbeat.</summary>
    /// <exception cref="KeyNotFoundException">No worker with this id has registered.</exception>
    public async Task<WorkerView> GetWorkerAsync(string worker) =>
        await grains.GetGrain<IWorkerGrain>(await RegisteredAsync(worker)).GetAsync();

    /// <summary>A page of a worker's ledger, newest first: entries before <paramref name="before"/> (null: now), at most <paramref name="limit"/> (1–1000).</summary>
    /// <exception cref="ArgumentOutOfRangeException">Limit outside 1–1000.</exception>
    /// <exception cref="KeyNotFoundException">No worker with this id has registered.</exception>
    public async Task<RewardHistoryPage> GetRewardHistoryAsync(string worker, DateTimeOffset? before = null, int limit = 20) =>
        await grains.GetGrain<IRewardLedgerGrain>(await RegisteredAsync(worker)).GetHistoryAsync(before, limit);

    /// <summary>The top <paramref name="top"/> (1–1000) workers by net credits in <paramref name="period"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Top outside 1–1000.</exception>
    public Task<IReadOnlyList<LeaderboardRow>> GetLeaderboardAsync(LeaderboardPeriod period = LeaderboardPeriod.Week, int top = 10) =>
        grains.GetGrain<ILeaderboardGrain>(ILeaderboardGrain.Key).GetTopAsync(period, top);

    /// <summary>Admin: takes back <paramref name="amount"/> (null: all that is left) of entry <paramref name="sequence"/> of a worker's ledger with a new negative entry.</summary>
    /// <exception cref="ArgumentException">No such credit entry, or the amount is not positive or more than is left.</exception>
    /// <exception cref="KeyNotFoundException">No worker with this id has registered.</exception>
    public async Task<RewardEntry> CorrectRewardAsync(string worker, long sequence, string reason, decimal? amount = null) =>
        await grains.GetGrain<IRewardLedgerGrain>(await RegisteredAsync(worker)).CorrectAsync(sequence, reason, amount);

    /// <summary>Where the verification of a job's output stands (<see cref="VerificationOutcome.Pending"/> with no checks when the job was not sampled).</summary>
    public Task<VerificationView> GetVerificationAsync(Guid jobId) =>
        grains.GetGrain<IVerificationGrain>(jobId).GetAsync();

    /// <summary>
    /// Creates an API key with <paramref name="role"/> and returns it with the key itself, which the pool does not keep
    /// (it stores only the key's SHA-256): show it once.
    /// </summary>
    /// <exception cref="ArgumentException">Unknown role.</exception>
    public async Task<(ApiKeyView View, string Key)> CreateApiKeyAsync(string role, string name)
    {
        var parsed = ApiRoles.Parse(role);
        var (id, key) = ApiKeys.Generate();
        var view = await grains.GetGrain<IApiKeyGrain>(id).CreateAsync(ApiKeys.Hash(key), parsed, name);
        return (view, key);
    }

    /// <summary>
    /// Creates a one-time enrollment token for the trusted silo <paramref name="name"/>, good for
    /// <paramref name="lifetime"/>, and returns it with the token itself, which the pool does not keep: show it once.
    /// </summary>
    /// <exception cref="JobValidationException">The name or the lifetime breaks its rule.</exception>
    public async Task<(EnrollmentTokenView View, string Token)> CreateEnrollmentTokenAsync(string name, TimeSpan lifetime)
    {
        var (id, token) = EnrollmentTokens.Generate();
        var view = await grains.GetGrain<ISiloEnrollmentGrain>(id).CreateAsync(EnrollmentTokens.Hash(token), name, DateTimeOffset.UtcNow + lifetime);
        return (view, token);
    }

    /// <summary>Revokes the API key with id <paramref name="id"/>.</summary>
    /// <exception cref="KeyNotFoundException">No such key.</exception>
    public Task<ApiKeyView> RevokeApiKeyAsync(string id) => grains.GetGrain<IApiKeyGrain>(id).RevokeAsync();

    /// <summary>Every API key, oldest first (never the keys themselves).</summary>
    public async Task<IReadOnlyList<ApiKeyView>> ListApiKeysAsync()
    {
        var ids = await grains.GetGrain<IApiKeyDirectoryGrain>(IApiKeyDirectoryGrain.Key).ListAsync();
        var views = await Task.WhenAll(ids.Select(id => grains.GetGrain<IApiKeyGrain>(id).GetAsync()));
        return views.OfType<ApiKeyView>().ToList();
    }

    private static string RequireWorker(string worker) =>
        string.IsNullOrWhiteSpace(worker) ? throw new ArgumentException("worker must be a worker id", nameof(worker)) : worker.Trim();

    /// <summary>The worker id, once the pool's status board shows that such a worker registered: an unknown worker is one rule on every surface (HTTP 404, CLI exit 2).</summary>
    /// <exception cref="KeyNotFoundException">No worker with this id has registered.</exception>
    private async Task<string> RegisteredAsync(string worker)
    {
        var id = RequireWorker(worker);
        var known = await grains.GetGrain<IWorkerStatusBoardGrain>(IWorkerStatusBoardGrain.Key).GetAllAsync();
        return known.ContainsKey(id) ? id : throw new KeyNotFoundException($"no worker with id '{id}' has registered");
    }
}

/// <summary>One event of a watched job.</summary>
/// <param name="Status">The job's status.</param>
/// <param name="Message">Why it is there, if said.</param>
/// <param name="Offset">Where <paramref name="Text"/> starts in the generated output, characters.</param>
/// <param name="Text">New output, in order; empty for a status or progress event.</param>
/// <param name="Progress">The job's progress as of this event (for text, tokens generated of max tokens); null before any report.</param>
public sealed record JobEvent(JobStatus Status, string? Message, int Offset, string Text, JobProgress? Progress);
