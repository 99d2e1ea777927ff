using System.Collections.Concurrent;
using System.Net;
using PoolAI.Client.Sdk;
using PoolAI.Jobs;

namespace PoolAI.Tests.Webhooks;

/// <summary>
/// Webhooks from a one-silo pool to a receiver in the test: signatures verified with the requester's secret, retries
/// after failures, every try visible in the job's view, and a dead endpoint that neither delays nor fails the job.
/// </summary>
[TestClass]
[DoNotParallelize]
public sealed class WebhookTests
{
    private static readonly byte[] PoolKey = Enumerable.Range(0, 32).Select(i => (byte)(255 - i)).ToArray();

    private static Orleans.TestingHost.InProcessTestCluster Start(bool allowPrivate = true) => TestPools.Build(1, _ => TestPools.Configuration("all-in-one", extra: new Dictionary<string, string?>
    {
        ["PoolAI:Webhooks:SigningKey"] = Convert.ToBase64String(PoolKey),
        ["PoolAI:Webhooks:FirstRetryDelay"] = "00:00:00.100",
        ["PoolAI:Webhooks:MaxRetryDelay"] = "00:00:00.500",
        ["PoolAI:Webhooks:MaxAttempts"] = "4",
        ["PoolAI:Webhooks:AttemptTimeout"] = "00:00:02",
        ["PoolAI:Webhooks:AllowPrivateAddresses"] = allowPrivate ? "true" : "false",
    }));

    /// <summary>A receiver on a free port that answers 500 to its first requests (as many as it is told), then 200.</summary>
    private sealed class Receiver : IDisposable
    {
        private readonly HttpListener _listener = new();
        private int _seen;

        public Receiver(int failures)
        {
            Port = PoolAI.Benchmarks.Failover.PoolProcess.FreePort();
            _listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
            _listener.Start();
            _ = Task.Run(async () =>
            {
                while (_listener.IsListening)
                {
                    HttpListenerContext context;
                    try
                    {
                        context = await _listener.GetContextAsync();
                    }
                    catch (Exception)
                    {
                        return;
                    }

                    using var reader = new StreamReader(context.Request.InputStream);
                    Requests.Enqueue((context.Request.Headers[WebhookSignature.Header], await reader.ReadToEndAsync(), DateTimeOffset.UtcNow));
                    context.Response.StatusCode = Interlocked.Increment(ref _seen) <= failures ? 500 : 200;
                    context.Response.Close();
                }
            });
        }

        public int Port { get; }

        public ConcurrentQueue<(string? Signature, string Body, DateTimeOffset At)> Requests { get; } = new();

        public void Dispose() => _listener.Close();
    }

    private static async Task<JobView> WaitForWebhookAsync(PoolClient pool, Guid id, Func<JobView, bool> done)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            var view = await pool.GetAsync(id);
            if (done(view))
                return view;
            Assert.IsTrue(DateTime.UtcNow < deadline, $"webhook attempts: {string.Join("; ", view.WebhookAttempts ?? [])}");
            await Task.Delay(100);
        }
    }

    [TestMethod]
    public async Task TheReceiverVerifiesTheSignatureAndGetsItAfterFailingTwice()
    {
        await using var cluster = Start();
        await cluster.DeployAsync();
        var pool = new PoolClient(cluster.Client);
        using var receiver = new Receiver(failures: 2);
        var spec = JobSpec.TextGeneration(TestModels.Shakespeare, TestModels.Settings(maxTokens: 10, seed: 5)) with { Requester = "alice", WebhookUrl = $"http://127.0.0.1:{receiver.Port}/hook" };
        var job = await pool.SubmitAsync(spec);
        var done = await pool.WaitAsync(job.Id, TimeSpan.FromSeconds(60));
        Assert.AreEqual(JobStatus.Succeeded, done.Status);

        var view = await WaitForWebhookAsync(pool, job.Id, v => v.WebhookAttempts?.Any(a => a.Delivered) == true);
        CollectionAssert.AreEqual(new int?[] { 500, 500, 200 }, view.WebhookAttempts!.Select(a => a.StatusCode).ToArray());
        CollectionAssert.AreEqual(new[] { 1, 2, 3 }, view.WebhookAttempts!.Select(a => a.Number).ToArray());

        var secret = WebhookSignature.SecretFor(PoolKey, "alice");
        Assert.AreEqual(3, receiver.Requests.Count);
        foreach (var (signature, body, at) in receiver.Requests)
        {
            Assert.IsTrue(WebhookSignature.Verify(secret, signature, body, at, TimeSpan.FromMinutes(5)), $"{signature} does not sign {body}");
            Assert.IsFalse(WebhookSignature.Verify(WebhookSignature.SecretFor(PoolKey, "mallory"), signature, body, at, TimeSpan.FromMinutes(5)), "another requester's secret verified it");
            Assert.IsFalse(WebhookSignature.Verify(secret, signature, body + " ", at, TimeSpan.FromMinutes(5)), "an altered body verified");
            using var payload = System.Text.Json.JsonDocument.Parse(body);
            Assert.AreEqual("job.final", payload.RootElement.GetProperty("event").GetString());
            Assert.AreEqual(job.Id.ToString(), payload.RootElement.GetProperty("job").GetProperty("id").GetString());
            Assert.AreEqual("Succeeded", payload.RootElement.GetProperty("job").GetProperty("status").GetString());
            Assert.AreEqual(done.Result!.Text!.Text, payload.RootElement.GetProperty("job").GetProperty("result").GetProperty("output").GetProperty("text").GetString());
        }
    }

    [TestMethod]
    public async Task ADeadEndpointNeitherDelaysNorFailsTheJob()
    {
        await using var cluster = Start();
        await cluster.DeployAsync();
        var pool = new PoolClient(cluster.Client);
        var dead = PoolAI.Benchmarks.Failover.PoolProcess.FreePort(); // nothing listens there
        var withHook = await pool.SubmitAsync(JobSpec.TextGeneration(TestModels.Shakespeare, TestModels.Settings(maxTokens: 10, seed: 6)) with { WebhookUrl = $"http://127.0.0.1:{dead}/hook" });
        var done = await pool.WaitAsync(withHook.Id, TimeSpan.FromSeconds(60));
        Assert.AreEqual(JobStatus.Succeeded, done.Status, done.StatusMessage);

        var view = await WaitForWebhookAsync(pool, withHook.Id, v => v.WebhookAttempts?.Count == 4);
        Assert.IsTrue(view.WebhookAttempts!.All(a => !a.Delivered && a.StatusCode is null && a.Error is not null));
        Assert.AreEqual(JobStatus.Succeeded, view.Status);
        Assert.AreEqual(done.Result, view.Result);
    }

    [TestMethod]
    public void BadWebhookUrlsAreRefusedNamingTheField()
    {
        foreach (var url in new[] { "not a url", "ftp://example.com/x", "/relative/path", "http://" + new string('a', 2100) + ".com" })
        {
            var error = Assert.ThrowsExactly<JobValidationException>(() => JobSpecRules.Validate(JobSpec.TextGeneration("m", TestModels.Settings()) with { WebhookUrl = url }), url);
            Assert.AreEqual("webhook_url", error.Field);
        }
    }

    /// <summary>By default a webhook may not reach loopback or private addresses (no calls into the pool's own network).</summary>
    [TestMethod]
    public async Task PrivateAddressesAreRefusedAtSubmissionUnlessAllowed()
    {
        foreach (var address in new[] { "127.0.0.1", "10.1.2.3", "172.20.0.1", "192.168.1.1", "169.254.169.254", "::1", "fd00::1", "0.0.0.0", "100.64.0.1" })
            Assert.IsTrue(PoolAI.Webhooks.WebhookSender.IsPrivate(System.Net.IPAddress.Parse(address)), address);
        foreach (var address in new[] { "8.8.8.8", "1.1.1.1", "2606:4700::1111" })
            Assert.IsFalse(PoolAI.Webhooks.WebhookSender.IsPrivate(System.Net.IPAddress.Parse(address)), address);

        await using var cluster = Start(allowPrivate: false);
        await cluster.DeployAsync();
        var pool = new PoolClient(cluster.Client);
        using var receiver = new Receiver(failures: 0);
        foreach (var url in new[] { $"http://127.0.0.1:{receiver.Port}/hook", "http://localhost/hook", "https://10.0.0.7/hook", "http://[::1]:9/hook" })
        {
            var id = Guid.NewGuid();
            var refused = await Assert.ThrowsExactlyAsync<JobValidationException>(() =>
                pool.SubmitAsync(JobSpec.TextGeneration(TestModels.Shakespeare, TestModels.Settings(maxTokens: 5, seed: 7)) with { WebhookUrl = url }, id));
            Assert.AreEqual("webhook_url", refused.Field, url);
            StringAssert.StartsWith(refused.Rule, "must reach a public address; ", url);
            StringAssert.EndsWith(refused.Rule, "which webhooks may not call (PoolAI:Webhooks:AllowPrivateAddresses is off)", url);
            await Assert.ThrowsExactlyAsync<KeyNotFoundException>(() => pool.GetAsync(id), "nothing is stored for a refused job");
        }

        var missing = await Assert.ThrowsExactlyAsync<JobValidationException>(() =>
            pool.SubmitAsync(JobSpec.TextGeneration(TestModels.Shakespeare, TestModels.Settings(maxTokens: 5)) with { WebhookUrl = "https://no-such-host.invalid/hook" }));
        Assert.AreEqual(("webhook_url", "the host 'no-such-host.invalid' does not exist (DNS has no address for it)"), (missing.Field, missing.Rule));
        Assert.AreEqual(0, receiver.Requests.Count);
    }
}
